from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "jigi.reports"
    label = "reports"
    verbose_name = "Reports"
