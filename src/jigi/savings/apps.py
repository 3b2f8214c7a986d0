from django.apps import AppConfig


class SavingsConfig(AppConfig):
    name = "jigi.savings"
    label = "savings"
    verbose_name = "Savings and shares"
