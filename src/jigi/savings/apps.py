from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _forget_books(**kwargs) -> None:
    # `flush` (and migrate) send post_migrate: ids may then come back for other rows, so the
    # per-process book cache of the deposit path must not outlive them.
    from jigi.savings.services import _common

    _common._books.clear()


class SavingsConfig(AppConfig):
    name = "jigi.savings"
    label = "savings"
    verbose_name = "Savings and shares"

    def ready(self) -> None:
        post_migrate.connect(_forget_books, dispatch_uid="jigi.savings.forget_books")
