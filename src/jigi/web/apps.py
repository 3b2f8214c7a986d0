from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "jigi.web"
    label = "web"
    verbose_name = "Web"
