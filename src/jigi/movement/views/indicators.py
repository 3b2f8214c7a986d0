"""Movement screens: indicators."""

urlpatterns: list = []
