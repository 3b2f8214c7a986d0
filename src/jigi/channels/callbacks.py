"""Members' call-back requests (made by USSD, `ussd.services.ussd_callback_request`): the
staff of the caisse or mutual the request is for see them and mark them handled.

Who: tellers, loan officers and managers of the caisse (or above it: a region, the network's
administrators), the mutual's manager and claims officers (or the union's administrators),
through `orgs.scoping` on the request's unit; the network auditor reads them and may not mark
them (403). Anyone else, or a request of another unit: not found (404).
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.channels.models import CallbackRequest
from jigi.core.audit import audit_log
from jigi.core.cleaning import clean_text, service_transaction
from jigi.core.errors import Forbidden, NotFound
from jigi.orgs.models import Role
from jigi.orgs.scoping import user_scope

HANDLER_ROLES = frozenset({
    Role.TELLER, Role.LOAN_OFFICER, Role.CAISSE_MANAGER, Role.NETWORK_ADMIN,
    Role.MUTUAL_MANAGER, Role.CLAIMS_OFFICER, Role.UNION_ADMIN})
READER_ROLES = HANDLER_ROLES | {Role.NETWORK_AUDITOR}


def _roles(roles) -> set[str]:
    return {str(r) for r in roles}


def callbacks_visible(user) -> bool:
    """Whether the user may open the call-back list at all."""
    scope = user_scope(user)
    return scope.is_superuser or bool(scope.roles & _roles(READER_ROLES))


def callbacks_for_user(user, *, open_only: bool = False) -> QuerySet[CallbackRequest]:
    """The requests of the units the user serves: open ones first, newest first."""
    scope = user_scope(user)
    qs = (CallbackRequest.objects
          .filter(scope.unit_q("unit__", roles=_roles(READER_ROLES)))
          .select_related("person", "unit", "handled_by")
          .annotate(is_open=Case(When(handled_at__isnull=True, then=Value(1)), default=Value(0),
                                 output_field=IntegerField()))
          .order_by("-is_open", "-requested_at", "-pk"))
    if open_only:
        qs = qs.filter(handled_at__isnull=True)
    return qs


def callbacks_open_count(user) -> int:
    return callbacks_for_user(user, open_only=True).count()


def callback_get_for_user(user, request_id: int) -> CallbackRequest:
    request = callbacks_for_user(user).filter(pk=request_id).first()
    if request is None:
        raise NotFound("callback_not_found", _("Call-back request not found."))
    return request


def _may_handle(user, request: CallbackRequest) -> bool:
    return user_scope(user).covers_unit(request.unit, write=True, roles=_roles(HANDLER_ROLES))


def callback_handle(*, acting_user, request_id: int, note: str = "") -> CallbackRequest:
    """Mark a request handled ("called"), with a short note: who and when are recorded.
    Idempotent: a request already handled is returned as it is (the first call's note and
    caller stay). 404 for a request the user does not see, 403 for the auditor."""
    note = clean_text(note, "note", max_len=200)
    request = callback_get_for_user(acting_user, request_id)
    if not _may_handle(acting_user, request):
        raise Forbidden("forbidden", _("You may not mark this request handled."))
    with service_transaction():
        locked = (CallbackRequest.objects.select_for_update(of=("self",))
                  .select_related("person", "unit", "handled_by").get(pk=request.pk))
        if locked.handled_at is not None:
            return locked
        locked.handled_at = timezone.now()
        locked.handled_by = acting_user
        locked.note = note
        locked.save(update_fields=["handled_at", "handled_by", "note"])
        audit_log(actor=acting_user, event_type="channels.callback_handled", subject=locked,
                  unit=locked.unit, after={"person": locked.person_id, "note": note})
    return locked
