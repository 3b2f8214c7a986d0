"""The REST API under /api/v1: one NinjaAPI, one router per domain app, one error format.

Errors always look like {"code": ..., "message": ..., "fields": {field: [messages]}} in the
caller's language (Accept-Language, or the session's language).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from jigi.core import prepared
from jigi.core.errors import ApplicationError
from jigi.orgs.models import ApiToken
from jigi.orgs.scoping import grant_columns_sql, scope_from_rows


def _token_user_sql() -> str:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    q = connection.ops.quote_name
    cols = ", ".join(f"u.{q(User._meta.get_field(n).column)}" for n in _token_user_fields())
    # Her grants in the same statement (one row per grant, or one row of NULLs): the scope that
    # nearly every call computes next costs no second round trip.
    grants, joins = grant_columns_sql(f"u.{q('id')}")
    return (  # names from the models, the key hash as a parameter
        f"SELECT {cols}, {grants} FROM {q(ApiToken._meta.db_table)} t "  # noqa: S608
        f"JOIN {q(User._meta.db_table)} u ON u.{q('id')} = t.{q('user_id')} {joins} "
        f"WHERE t.{q('key_hash')} = %s AND t.{q('revoked_at')} IS NULL AND u.{q('is_active')} "
        f"ORDER BY r.{q('id')}")


# The user as a request needs it; the other fields (password, dates) load if ever read.
_TOKEN_USER_FIELDS = {"id", "username", "first_name", "last_name", "is_superuser", "is_staff",
                      "is_active"}


def _token_user_fields() -> list[str]:
    """In the model's field order: `Model.from_db` reads a partial row in that order."""
    from django.contrib.auth import get_user_model

    return [f.attname for f in get_user_model()._meta.concrete_fields
            if f.attname in _TOKEN_USER_FIELDS]


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        from django.contrib.auth import get_user_model

        digest = hashlib.sha256(token.encode()).hexdigest()
        # Every API call passes here: one statement written once per process (jigi.core.prepared)
        # instead of the ORM's join compiled per request.
        with prepared.cursor() as cursor:
            rows = cursor.execute(prepared.statement("api.token_user", _token_user_sql),
                                  [digest]).fetchall()
        if not rows:
            return None
        names = _token_user_fields()
        n = len(names)
        # SQLite gives booleans as integers.
        values = [bool(v) if name.startswith("is_") else v
                  for name, v in zip(names, rows[0][:n], strict=True)]
        user = prepared.loaded(get_user_model(), names, values, connection.alias)
        scope_from_rows(user, [row[n:] for row in rows])
        request.user = user
        return user


class TokenHeader(APIKeyHeader):
    """`X-Api-Key: <token>` for gateways that cannot send an Authorization header."""

    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None):
        return BearerToken().authenticate(request, key or "")


class Session(SessionAuth):
    """The web session, with Django's CSRF check, only when a session cookie is present: a
    gateway or phone app authenticating by token carries no cookie and needs no CSRF token."""

    def _get_key(self, request: HttpRequest):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)


api = NinjaAPI(
    title="Jigi API",
    version="1",
    urls_namespace="api",
    # Tokens first: a request with a valid token never depends on cookies.
    auth=[BearerToken(), TokenHeader(), Session()],
)


def _field_name(loc: list | tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "form")]
    return ".".join(parts) or "__all__"


_PYDANTIC_MESSAGES = {
    "missing": lambda e: _("This field is required."),
    "int_parsing": lambda e: _("Enter a whole number."),
    "int_from_float": lambda e: _("Enter a whole number (no decimals)."),
    "int_type": lambda e: _("Enter a whole number."),
    "string_type": lambda e: _("Enter text."),
    "string_too_short": lambda e: _("This field is too short."),
    "string_too_long": lambda e: _("This field is too long."),
    "date_from_datetime_parsing": lambda e: _("Enter a valid date (YYYY-MM-DD)."),
    "date_parsing": lambda e: _("Enter a valid date (YYYY-MM-DD)."),
    "date_type": lambda e: _("Enter a valid date (YYYY-MM-DD)."),
    "bool_parsing": lambda e: _("Enter true or false."),
    "enum": lambda e: _("Choose one of the allowed values."),
    "literal_error": lambda e: _("Choose one of the allowed values."),
    "greater_than": lambda e: _("The value is too small."),
    "greater_than_equal": lambda e: _("The value is too small."),
    "less_than_equal": lambda e: _("The value is too large."),
    "less_than": lambda e: _("The value is too large."),
    "json_invalid": lambda e: _("The request body is not valid JSON."),
    "model_attributes_type": lambda e: _("The request body must be a JSON object."),
    "dict_type": lambda e: _("The request body must be a JSON object."),
}


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError):
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        kind = err.get("type", "")
        translate = _PYDANTIC_MESSAGES.get(kind)
        if translate is not None:
            message = str(translate(err))
        elif kind == "value_error":
            # Our own validators raise ValueError with an already-translated message.
            message = str(err.get("ctx", {}).get("error", err.get("msg", "")))
        else:
            message = _("This value is not valid.")
        fields.setdefault(_field_name(err.get("loc", ())), []).append(message)
    return api.create_response(
        request,
        {"code": "invalid", "message": _("Some fields are not valid."), "fields": fields},
        status=422,
    )


@api.exception_handler(ApplicationError)
def on_application_error(request: HttpRequest, exc: ApplicationError):
    return api.create_response(request, exc.as_dict(), status=exc.status_code)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request, {"code": "unauthenticated", "message": _("Log in first."), "fields": {}},
        status=401,
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError):
    return api.create_response(
        request, {"code": "http_error", "message": str(exc), "fields": {}}, status=exc.status_code
    )


@api.get("/health", auth=None, tags=["system"])
def health(request: HttpRequest):
    return {"status": "ok", "time": timezone.now().isoformat()}


def _mount() -> None:
    from jigi.channels.api import router as channels_router
    from jigi.channels.field.api import router as field_router
    from jigi.channels.momo.api import router as momo_router
    from jigi.credit.api import router as credit_router
    from jigi.health.api import router as health_router
    from jigi.health.api_claims import router as health_claims_router
    from jigi.learning.api import router as learning_router
    from jigi.ledger.api import router as ledger_router
    from jigi.movement.api_campaigns import router as movement_campaigns_router
    from jigi.movement.api_cases import router as movement_cases_router
    from jigi.movement.api_indicators import router as movement_indicators_router
    from jigi.movement.api_members import router as movement_members_router
    from jigi.orgs.api import router as orgs_router
    from jigi.people.api import router as people_router
    from jigi.savings.api import router as savings_router

    api.add_router("/orgs", orgs_router)
    api.add_router("/people", people_router)
    api.add_router("/ledger", ledger_router)
    api.add_router("/savings", savings_router)
    api.add_router("/credit", credit_router)
    api.add_router("/health", health_router)
    api.add_router("/health", health_claims_router)
    api.add_router("/movement", movement_members_router)
    api.add_router("/movement", movement_cases_router)
    api.add_router("/movement", movement_campaigns_router)
    api.add_router("/movement", movement_indicators_router)
    api.add_router("/learning", learning_router)
    api.add_router("/channels", channels_router)
    api.add_router("/channels/momo", momo_router)
    api.add_router("/field", field_router)


_mount()
