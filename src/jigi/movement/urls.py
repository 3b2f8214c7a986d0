# Included in the "web" namespace by jigi/web/urls.py; each screen module lists its own paths.
from jigi.movement.views import campaigns, cases, indicators, members

urlpatterns = [
    *members.urlpatterns,
    *cases.urlpatterns,
    *campaigns.urlpatterns,
    *indicators.urlpatterns,
]
