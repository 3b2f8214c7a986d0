from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "jigi.demo"
    label = "demo"
    verbose_name = "Demo data"
