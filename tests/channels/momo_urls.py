"""The project's URLs with the mobile-money screens included in the "web" namespace and the
mobile-money router mounted at /api/v1/channels/momo, for tests written before jigi/web/urls.py
and jigi/api.py include them (harmless after: nothing is added twice)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from ninja import NinjaAPI

from jigi.api import api as project_api
from jigi.channels.momo import urls as momo_urls
from jigi.channels.momo.api import router
from jigi.core.errors import ApplicationError
from jigi.web import urls as web_urls

mounted = any(reg[1] is router for reg in getattr(project_api, "_router_registrations", []))
included = any("jigi.channels.momo.urls" in str(getattr(p, "urlconf_name", ""))
               for p in web_urls.urlpatterns)

momo_api = NinjaAPI(urls_namespace="momo-test", auth=project_api.auth)
momo_api.add_router("/channels/momo", router)


@momo_api.exception_handler(ApplicationError)
def _on_error(request, exc):
    return momo_api.create_response(request, exc.as_dict(), status=exc.status_code)


web_patterns = list(web_urls.urlpatterns) + ([] if included else momo_urls.urlpatterns)
urlpatterns = [
    *([] if mounted else [path("api/v1/", momo_api.urls)]),
    path("api/v1/", project_api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include((web_patterns, "web"))),
]
