from django.urls import path

from jigi.core import views

# Included in the "web" namespace by jigi/web/urls.py.
urlpatterns = [
    path("audit/", views.audit_list, name="audit"),
]
