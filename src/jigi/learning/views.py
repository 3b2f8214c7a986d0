"""Learning screens."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def home(request):  # placeholder until the learning screens land
    return HttpResponse("learning")


urlpatterns: list = [path("learning/", home, name="learning_home")]
