from django.apps import AppConfig


class MovementConfig(AppConfig):
    name = "jigi.movement"
    label = "movement"
    verbose_name = "Movement (MTC)"
