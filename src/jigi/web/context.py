from __future__ import annotations

from jigi.orgs.scoping import user_scope


def jigi_context(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = user_scope(user)
    return {"jigi_scope": scope, "jigi_roles": sorted(scope.roles)}
