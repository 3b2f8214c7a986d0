from django.urls import path

from jigi.channels import views, views_callbacks

# Included in the "web" namespace by jigi/web/urls.py.
urlpatterns = [
    path("channels/sms/", views.outbox, name="channels_outbox"),
    path("channels/sms/send/", views.send_now, name="channels_send"),
    path("channels/sms/report/", views.cost_report, name="channels_report"),
    path("channels/sms/people/<int:person_id>/", views.preference,
         name="channels_preference"),
    path("channels/callbacks/", views_callbacks.callback_list, name="channels_callbacks"),
]
