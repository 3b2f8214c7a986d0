from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "jigi.people"
    label = "people"
    verbose_name = "People"
