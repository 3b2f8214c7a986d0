"""Movement screens: cases."""

urlpatterns: list = []
