from django.apps import AppConfig


class CobConfig(AppConfig):
    name = "jigi.cob"
    label = "cob"
    verbose_name = "Close of business"
