from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "jigi.core"
    label = "core"
    verbose_name = "Jigi core"
