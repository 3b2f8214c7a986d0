"""Movement screens: campaigns."""

urlpatterns: list = []
