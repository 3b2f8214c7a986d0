"""Typed application errors with stable codes.

Services raise these; one handler turns them into 4xx JSON for the API and an inline message
for htmx forms. Messages are lazily translated so each user reads them in their language.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status_code = 400

    def __init__(
        self,
        code: str,
        message: Any,
        fields: dict[str, Any] | None = None,
        *,
        status_code: int | None = None,
    ) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.fields = fields or {}
        if status_code is not None:
            self.status_code = status_code

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])]
                       for k, v in self.fields.items()},
        }


class NotFound(ApplicationError):
    """Also raised for objects the user may not see: a 404 leaks nothing about existence."""

    status_code = 404


class Forbidden(ApplicationError):
    status_code = 403


class Conflict(ApplicationError):
    status_code = 409
