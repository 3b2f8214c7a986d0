from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from jigi.web.selectors import dashboard_for_user


@login_required
def home(request):
    return render(request, "web/home.html", {"dashboard": dashboard_for_user(request.user)})
