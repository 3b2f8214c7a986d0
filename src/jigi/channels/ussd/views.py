"""The USSD gateway's endpoint and the counter screen where staff set a member's PIN and
language.

Gateway: POST form fields sessionId, serviceCode, phoneNumber, text (networkCode ignored);
answers text/plain "CON ..." or "END ...". Who may call it (settings, read with getattr):
- JIGI_USSD_KEY: a shared secret the gateway sends as ?key=... or an X-Ussd-Key header;
- JIGI_USSD_ALLOWED_IPS: the gateway's addresses (REMOTE_ADDR; behind a proxy, have the proxy
  set it). With neither setting only this machine (127.0.0.1, ::1) may call: the simulator.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from jigi.channels.models import SmsPreference, UssdPin
from jigi.channels.ussd import forms, menu, pins, services
from jigi.core.errors import ApplicationError, NotFound
from jigi.orgs.models import Role
from jigi.people.phones import PhoneError, normalize_mali_phone
from jigi.people.selectors import can_write_person, get_person_for_user
from jigi.web.forms import FormErrors
from jigi.web.view_helpers import refusal

LOOPBACK = ("127.0.0.1", "::1")
# Who sets a PIN: the member's caisse (tellers, manager) or mutual (manager), network and
# union administrators; auditors and clinic staff do not.
PIN_ROLES = {Role.TELLER, Role.CAISSE_MANAGER, Role.NETWORK_ADMIN, Role.MUTUAL_MANAGER,
             Role.UNION_ADMIN}


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def _gateway_allowed(request) -> bool:
    key = str(getattr(settings, "JIGI_USSD_KEY", "") or "")
    ips = getattr(settings, "JIGI_USSD_ALLOWED_IPS", None)
    addr = request.META.get("REMOTE_ADDR", "")
    if key:
        given = request.GET.get("key") or request.headers.get("X-Ussd-Key", "")
        if not hmac.compare_digest(given.encode(), key.encode()):
            return False
    if ips is not None:
        return addr in ips
    return bool(key) or addr in LOOPBACK


def _field(request, name: str, max_len: int) -> str | None:
    value = request.POST.get(name)
    if value is None or len(value) > max_len or any(not c.isprintable() for c in value):
        return None
    return value.strip()


@csrf_exempt
@require_POST
def gateway(request):
    if not _gateway_allowed(request):
        return _text("END", status=403)
    session_id = _field(request, "sessionId", 100)
    service_code = _field(request, "serviceCode", 32)
    phone_raw = _field(request, "phoneNumber", 32)
    text = request.POST.get("text")
    if not session_id or service_code is None or not phone_raw or text is None:
        return _text(menu.fit(menu.END, ["Bad request."]), status=400)
    try:
        phone = normalize_mali_phone(phone_raw)
    except PhoneError:
        phone = None
    text = text.strip()
    if phone is None:
        return _text(services.end_reply(
            gettext_noop("This number is not known. Go to your caisse or mutual.")))
    if len(text) > menu.MAX_TEXT or any(not c.isprintable() for c in text):
        return _text(services.end_reply(gettext_noop("Too many choices. Dial again.")))
    return _text(services.ussd_answer(services.GatewayRequest(
        session_id=session_id, phone=phone, service_code=service_code, text=text)))


@login_required
@require_http_methods(["GET", "POST"])
def pin_screen(request, person_id: int):
    try:
        person = get_person_for_user(request.user, person_id)
    except NotFound:
        raise Http404 from None
    if not can_write_person(request.user, person, roles={str(r) for r in PIN_ROLES}):
        raise PermissionDenied
    pin_row = UssdPin.objects.filter(person=person).first()
    pref = SmsPreference.objects.filter(person=person).first()
    context = {"person": person, "pin_row": pin_row, "state": pins.pin_state(pin_row),
               "language": pref.language if pref else "", "saved": False, "errors": {}}
    status = 200
    if request.method == "POST":
        try:
            form = forms.read_pin_form(request.POST)
            services.ussd_member_setup(person=person, pin=form.pin, language=form.language,
                                       acting_user=request.user)
        except (FormErrors, ApplicationError) as exc:
            context["error"], context["errors"], status = refusal(exc)
            context["language"] = request.POST.get("language", "")
        else:
            pin_row = UssdPin.objects.filter(person=person).first()
            context.update(saved=True, pin_row=pin_row, state=pins.pin_state(pin_row),
                           language=form.language, pin_changed=bool(form.pin))
    template = "channels/ussd/_pin_form.html" if request.htmx else "channels/ussd/pin.html"
    return render(request, template, context, status=status)
