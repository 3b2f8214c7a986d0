from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "jigi.credit"
    label = "credit"
    verbose_name = "Credit"
