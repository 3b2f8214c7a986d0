from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "jigi.channels"
    label = "channels"
    verbose_name = "Channels (SMS, USSD, mobile money)"
