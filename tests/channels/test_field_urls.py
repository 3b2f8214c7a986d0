"""The project's URLs with the field screens included in the "web" namespace and the field
router mounted at /api/v1/field, for tests written before jigi/web/urls.py and jigi/api.py
include them (harmless after: nothing is added twice). No tests here."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from ninja import NinjaAPI

from jigi.api import api as project_api
from jigi.channels.field import urls as field_urls
from jigi.channels.field.api import router
from jigi.core.errors import ApplicationError
from jigi.web import urls as web_urls

mounted = any(reg[1] is router for reg in getattr(project_api, "_router_registrations", []))
included = any("jigi.channels.field.urls" in str(getattr(p, "urlconf_name", ""))
               for p in web_urls.urlpatterns)

field_api = NinjaAPI(urls_namespace="field-test", auth=project_api.auth)
field_api.add_router("/field", router)


@field_api.exception_handler(ApplicationError)
def _on_error(request, exc):
    return field_api.create_response(request, exc.as_dict(), status=exc.status_code)


web_patterns = list(web_urls.urlpatterns) + ([] if included else field_urls.urlpatterns)
urlpatterns = [
    *([] if mounted else [path("api/v1/", field_api.urls)]),
    path("api/v1/", project_api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include((web_patterns, "web"))),
]
