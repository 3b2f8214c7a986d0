from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def person_search(request):
    return HttpResponse("people search: being built")


@login_required
def person_register(request):
    return HttpResponse("registration: being built")
