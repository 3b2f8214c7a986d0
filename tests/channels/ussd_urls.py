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
# First, as asked of jigi/web/urls.py: the gateway is the hot path, and Django tries the
# patterns in order (resolving past the web app's hundreds of patterns costs ~1 ms a reply).
web_patterns = ([] if included else ussd_urls.urlpatterns) + list(web_urls.urlpatterns)
urlpatterns = [
    path("api/v1/", project_api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include((web_patterns, "web"))),
]
