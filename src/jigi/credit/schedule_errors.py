"""The one error type of the pure credit calculations (schedule, seasonal patterns, TEG).

Pure: imports nothing from Django, so messages cannot be translated here. They are English
source strings marked with `gettext_noop` (imported as `_`), which `makemessages` extracts; the
template and its parameters are kept apart so the service layer can show the translation:
`gettext(error.template) % error.params`, under `fields={error.field: [...]}`. The CLI prints
the English text and exits 2.
"""

from __future__ import annotations

from collections.abc import Callable


def gettext_noop(message: str) -> str:
    """Mark a message for translation without translating it (Django's gettext_noop)."""
    return message


class ScheduleError(ValueError):
    """Settings that cannot produce a schedule. `field` names the offending input field."""

    def __init__(self, field: str, template: str, **params: object) -> None:
        self.field = field
        self.template = template
        self.params = params
        self.message = template % params if params else template
        super().__init__(f"{field}: {self.message}")

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the caller's language, given a gettext function."""
        text = gettext(self.template)
        return text % self.params if self.params else text
