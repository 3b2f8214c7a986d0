from django.urls import path

from jigi.channels.field import views

# Included in the "web" namespace by jigi/web/urls.py: path("", include("jigi.channels.field.urls")).
urlpatterns = [
    path("field/", views.field_app, name="field_app"),
    path("field/sw.js", views.service_worker, name="field_sw"),
    path("field/review/", views.review, name="field_review"),
    path("field/review/<int:item_id>/resolve/", views.review_resolve, name="field_resolve"),
    path("field/cash/", views.cash, name="field_cash"),
]
