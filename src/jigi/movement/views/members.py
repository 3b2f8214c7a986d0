"""Movement screens: members and dues."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def home(request):  # placeholder until the members screens land
    return HttpResponse("movement")


urlpatterns: list = [path("movement/", home, name="movement_home")]
