from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "jigi.learning"
    label = "learning"
    verbose_name = "Learning (trainings of every organisation)"
