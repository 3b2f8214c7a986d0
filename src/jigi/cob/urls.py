from django.urls import path

from jigi.cob import views

urlpatterns = [
    path("cob/", views.cob_page, name="cob"),
    path("cob/progress/", views.cob_progress, name="cob_progress"),
    path("cob/start/", views.cob_start_view, name="cob_start"),
]
