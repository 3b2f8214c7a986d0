from django.urls import path

from jigi.channels.momo import views

# To be included in the "web" namespace by jigi/web/urls.py.
urlpatterns = [
    path("channels/momo/", views.payments, name="momo_payments"),
    path("channels/momo/request/", views.payment_request, name="momo_request"),
    path("channels/momo/payment/<str:order_id>/", views.payment_card, name="momo_payment"),
    path("channels/momo/done/<str:order_id>/", views.done, name="momo_done"),
    path("channels/momo/report/", views.report, name="momo_report"),
    path("channels/momo/report/import/", views.statement_import, name="momo_import"),
    path("channels/momo/report/refund/<int:line_id>/", views.refund, name="momo_refund"),
    path("channels/momo/report/refund/<path:reference>/confirm/", views.refund_confirm,
         name="momo_refund_confirm"),
]
