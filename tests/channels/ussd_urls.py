"""The project's URLs with the USSD gateway and PIN screen included in the "web" namespace, for
tests written before jigi/web/urls.py includes jigi.channels.ussd.urls (harmless after)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from jigi.api import api as project_api
from jigi.channels.ussd import urls as ussd_urls
from jigi.web import urls as web_urls

included = any("jigi.channels.ussd.urls" in str(getattr(p, "urlconf_name", ""))
               for p in web_urls.urlpatterns)
web_patterns = list(web_urls.urlpatterns) + ([] if included else ussd_urls.urlpatterns)
urlpatterns = [
    path("api/v1/", project_api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include((web_patterns, "web"))),
]
