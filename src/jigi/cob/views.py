"""The close-of-business page: the network's business date, live progress (htmx polling) and
the last runs; a button starts a run (network administrators)."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from jigi.cob import selectors, services
from jigi.core.errors import ApplicationError


def _context(request, org, **extra):
    state = selectors.cob_state(org)
    suggested = timezone.localdate() - timedelta(days=1)
    if state.last_closed and state.last_closed >= suggested:
        suggested = timezone.localdate()
    return {"state": state, "suggested": suggested.isoformat(),
            "can_start": _can_start(request.user), **extra}


def _can_start(user) -> bool:
    try:
        selectors.network_for_user(user, start=True)
    except Http404:  # the user may only watch
        return False
    return True


@login_required
def cob_page(request):
    org = selectors.network_for_user(request.user)
    return render(request, "cob/page.html", _context(request, org))


@login_required
def cob_progress(request):
    org = selectors.network_for_user(request.user)
    return render(request, "cob/_progress.html", _context(request, org))


@login_required
@require_POST
def cob_start_view(request):
    """Start a run through the date asked. With a broker the partitions go to the Celery
    workers and this answers at once; without one the run happens in this request (one
    business day takes seconds; long catch-ups belong to `jigi cob`)."""
    org = selectors.network_for_user(request.user, start=True)
    error = None
    try:
        through = date.fromisoformat(request.POST.get("through", ""))
    except ValueError:
        through = None
        error = ApplicationError("invalid", _("Choose the business date to close through."))
    if through is not None:
        from jigi.cob.tasks import broker_url, cob_run_task

        mode = "celery" if broker_url() else "inprocess"
        try:
            run = services.cob_start(organisation=org, through=through,
                                     acting_user=request.user, mode=mode)
        except ApplicationError as exc:
            error = exc
        else:
            if run.partitions_total == 0:
                services._finish(run, "done")
            elif mode == "celery":
                cob_run_task.delay(run.pk)
            else:
                try:
                    services.cob_execute(run=run)
                except Exception as exc:  # noqa: BLE001 (recorded on the run, shown below)
                    error = ApplicationError("cob_failed", str(exc))
    template = "cob/_progress.html" if request.htmx else "cob/page.html"
    return render(request, template, _context(request, org, error=error))
