"""The demo's phone side (a step of `jigi demo`): members' SMS choices and a few USSD PINs.

About half the members with a phone agreed to SMS at the counter (the reminders and receipts
then reach them); those who cannot read French mostly chose Bambara. Three Kondo members of the
first caisse have the USSD PIN `DEMO_PIN`, so that `jigi ussd --phone ...` can be tried on the
demo at once; the demo's log names their phones.
"""

from __future__ import annotations

from typing import Any

from jigi.channels.models import SmsPreference, UssdPin
from jigi.channels.ussd.pins import pin_hash
from jigi.people.models import Literacy, Membership, MembershipStatus, Person

DEMO_PIN = "2580"
OPT_IN = 0.55


def step_channels(ctx: Any) -> None:
    rng = ctx.rng("channels")
    prefs = []
    languages = {"fr": 0, "bm": 0}
    rows = (Person.objects.exclude(phone="").order_by("pk")
            .values_list("pk", "literacy").iterator(chunk_size=5_000))
    for pk, literacy in rows:
        if rng.random() >= OPT_IN:
            continue
        reads_french = literacy == Literacy.LITERATE_FRENCH
        language = "fr" if reads_french or rng.random() < 0.2 else "bm"
        languages[language] += 1
        prefs.append(SmsPreference(person_id=pk, opt_in=True, language=language))
    SmsPreference.objects.bulk_create(prefs, batch_size=2_000)

    first = (Membership.objects.filter(organisation__code="KONDO",
                                       status=MembershipStatus.ACTIVE)
             .exclude(person__phone="").order_by("unit__code", "pk")
             .values_list("person_id", "person__phone")[:3])
    pins = [UssdPin(person_id=pk, pin_hash=pin_hash(pk, DEMO_PIN)) for pk, _phone in first]
    UssdPin.objects.bulk_create(pins)
    ctx.counts["channels"] = {"sms_opt_in": len(prefs), **languages, "ussd_pins": len(pins)}
    ctx.log(f"channels: {len(prefs)} members agreed to SMS (fr {languages['fr']}, "
            f"bm {languages['bm']}); USSD PIN {DEMO_PIN} for "
            + ", ".join(phone for _pk, phone in first))
