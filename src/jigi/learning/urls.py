# Included in the "web" namespace by jigi/web/urls.py.
from jigi.learning.views import urlpatterns  # noqa: F401
