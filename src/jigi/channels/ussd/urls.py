from django.urls import path

from jigi.channels.ussd import views

# Included in the "web" namespace by jigi/web/urls.py: path("", include("jigi.channels.ussd.urls")).
urlpatterns = [
    path("channels/ussd/gateway/", views.gateway, name="ussd_gateway"),
    path("channels/ussd/pin/<int:person_id>/", views.pin_screen, name="ussd_pin"),
]
