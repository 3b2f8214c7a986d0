from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "jigi.ledger"
    label = "ledger"
    verbose_name = "Ledger"
