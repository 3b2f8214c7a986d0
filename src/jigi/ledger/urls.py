# Included in the "web" namespace by jigi/web/urls.py.
urlpatterns: list = []
