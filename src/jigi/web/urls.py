from django.contrib.auth import views as auth_views
from django.urls import include, path

from jigi.web import views

app_name = "web"

urlpatterns = [
    # First: the USSD gateway answers within the gateway's time limit (fewer patterns tried).
    path("", include("jigi.channels.ussd.urls")),
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("jigi.people.urls")),
    path("", include("jigi.ledger.urls")),
    path("", include("jigi.savings.urls")),
    path("", include("jigi.credit.urls")),
    path("", include("jigi.health.urls")),
    path("", include("jigi.movement.urls")),
    path("", include("jigi.learning.urls")),
    path("", include("jigi.channels.urls")),
    path("", include("jigi.channels.field.urls")),
    path("", include("jigi.channels.momo.urls")),
    path("", include("jigi.reports.urls")),
    path("", include("jigi.cob.urls")),
    path("", include("jigi.core.urls")),
]
