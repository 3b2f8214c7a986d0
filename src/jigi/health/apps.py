from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "jigi.health"
    label = "health"
    verbose_name = "Health (UTM mutuals)"
