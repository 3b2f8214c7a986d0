from django.urls import path

from jigi.reports import views

# Included in the "web" namespace by jigi/web/urls.py.
urlpatterns = [
    path("reports/", views.index, name="reports"),
    path("reports/dashboard/", views.dashboard, name="reports_dashboard"),
    path("reports/<str:name>/", views.report, name="report"),
]
