from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "jigi.orgs"
    label = "orgs"
    verbose_name = "Organisations"
