"""Screens without a browser: what each persona gets from the people pages."""

from __future__ import annotations

from django.urls import reverse

from jigi.people.models import Consent, DuplicateCandidate, Person
from jigi.people.services import person_merge
from tests.people.factories import register


def _form(world, **over):
    data = {"unit": str(world.caisse_a.pk), "first_name": "Kadidia", "last_name": "Sanogo",
            "sex": "F", "birth_year": "1992", "phone": "77 45 12 90", "village": "Siribala",
            "cercle": "Niono", "region": "Ségou", "literacy": "none", "language": "bm"}
    data.update(over)
    return data


def test_search_page_and_htmx_fragment(world, client_for):
    p = register(world, first_name="Aïssata", last_name="Keïta")
    c = client_for("teller_a")
    page = c.get(reverse("web:person_search"), {"q": "keita"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-get="/people/"' in html
    assert "delay:300ms" in html
    assert f'href="/people/{p.pk}/"' in html
    fragment = c.get(reverse("web:person_search"), {"q": "aissata"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    assert f'href="/people/{p.pk}/"' in fragment.content.decode()
    other = client_for("teller_b").get(reverse("web:person_search"), {"q": "keita"},
                                        HTTP_HX_REQUEST="true")
    assert f"/people/{p.pk}/" not in other.content.decode()


def test_register_form_offers_only_the_tellers_caisse_preselected(world, client_for):
    html = client_for("teller_a").get(reverse("web:person_register")).content.decode()
    assert f'<option value="{world.caisse_a.pk}" selected>' in html
    assert f'value="{world.caisse_b.pk}"' not in html
    assert 'value="Niono"' in html  # the caisse's cercle is proposed
    r = client_for("auditor").get(reverse("web:person_register"))
    assert r.status_code == 403
    assert 'id="person-form"' not in r.content.decode()


def test_register_post_then_duplicate_warning_then_confirm(world, client_for):
    c = client_for("teller_a")
    r = c.post(reverse("web:person_register"), _form(world))
    first = Person.objects.get()
    assert r.status_code == 302
    assert r["Location"] == reverse("web:person_detail", args=[first.pk])
    r = c.post(reverse("web:person_register"), _form(world, phone="", birth_year="1993"))
    html = r.content.decode()
    assert r.status_code == 200
    assert 'id="duplicate-warning"' in html
    assert "C001-000001" in html
    assert f'href="/people/{first.pk}/"' in html
    assert 'name="confirm_not_duplicate"' in html
    assert Person.objects.count() == 1
    r = c.post(reverse("web:person_register"),
               _form(world, phone="", birth_year="1993", confirm_not_duplicate="on"))
    second = Person.objects.exclude(pk=first.pk).get()
    assert r["Location"] == reverse("web:person_detail", args=[second.pk])
    assert DuplicateCandidate.objects.get(person=second).other == first


def test_register_field_errors_and_refusals(world, client_for):
    c = client_for("teller_a")
    r = c.post(reverse("web:person_register"), _form(world, phone="12", birth_year=""))
    html = r.content.decode()
    assert 'id="error-phone"' in html
    assert 'id="error-birth_year"' in html
    # A unit the teller may not use is not a choice at all.
    r = c.post(reverse("web:person_register"), _form(world, unit=str(world.caisse_b.pk)))
    assert 'id="error-unit"' in r.content.decode()
    assert Person.objects.count() == 0
    register(world, nina="ML42")
    r = c.post(reverse("web:person_register"), _form(world, nina="ml42"))
    html = r.content.decode()
    assert 'id="error-nina"' in html
    assert 'name="confirm_not_duplicate"' not in html  # an identical NINA cannot be confirmed
    assert Person.objects.count() == 1


def test_person_page_scoping_and_merged_redirect(world, client_for):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988)
    b = register(world, first_name="Sira", last_name="Konate", birth_year=1988,
                 confirm_not_duplicate=True)
    teller = client_for("teller_a")
    html = teller.get(reverse("web:person_detail", args=[b.pk])).content.decode()
    assert 'id="duplicates"' in html
    assert f'action="/people/{b.pk}/merge/{a.pk}/"' not in html  # tellers do not merge
    manager = client_for("manager_a")
    html = manager.get(reverse("web:person_detail", args=[b.pk])).content.decode()
    assert f'action="/people/{b.pk}/merge/{a.pk}/"' in html
    # The older record shows the same pair.
    html = manager.get(reverse("web:person_detail", args=[a.pk])).content.decode()
    assert f'action="/people/{a.pk}/merge/{b.pk}/"' in html
    assert client_for("teller_b").get(reverse("web:person_detail", args=[a.pk])).status_code == 404
    assert client_for("mutual_manager").get(
        reverse("web:person_detail", args=[a.pk])).status_code == 404
    r = manager.post(reverse("web:person_merge", args=[b.pk, a.pk]), {"reason": "Même carte"})
    assert r["Location"] == reverse("web:person_detail", args=[a.pk])
    r = teller.get(reverse("web:person_detail", args=[b.pk]))
    assert r.status_code == 302
    assert r["Location"] == reverse("web:person_detail", args=[a.pk])


def test_teller_cannot_merge_through_the_screen(world, client_for):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988)
    b = register(world, first_name="Sira", last_name="Konate", birth_year=1988,
                 confirm_not_duplicate=True)
    r = client_for("teller_a").post(reverse("web:person_merge", args=[b.pk, a.pk]),
                                    {"reason": "x"})
    assert r.status_code == 302
    b.refresh_from_db()
    assert b.merged_into is None
    r = client_for("teller_b").post(reverse("web:person_merge", args=[b.pk, a.pk]),
                                    {"reason": "x"})
    assert r.status_code == 404


def test_consent_screens(world, client_for):
    p = register(world)
    c = client_for("teller_a")
    r = c.post(reverse("web:consent_add", args=[p.pk]),
               {"granted_to": world.orgs.utm.pk, "scope": "identity", "purpose": "AMV"})
    assert r.status_code == 302
    consent = Consent.objects.get()
    assert client_for("mutual_manager").get(
        reverse("web:person_detail", args=[p.pk])).status_code == 200
    html = client_for("mutual_manager").get(
        reverse("web:person_detail", args=[p.pk])).content.decode()
    assert "C001-000001" not in html  # identity only: no Kondo membership
    assert 'id="consent-form"' not in html  # UTM does not record Kondo's member's consents
    assert client_for("teller_b").post(
        reverse("web:consent_withdraw", args=[p.pk, consent.pk])).status_code == 404
    c.post(reverse("web:consent_withdraw", args=[p.pk, consent.pk]))
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert client_for("mutual_manager").get(
        reverse("web:person_detail", args=[p.pk])).status_code == 404


def test_hidden_duplicates_are_counted_not_shown(world, client_for):
    register(world, first_name="Salimata", last_name="Diallo", phone="76 22 22 22")
    p = register(world, first_name="Nana", last_name="Touré", phone="76222222", cercle="Koutiala",
                 village="Molobala", unit=world.caisse_b, user="teller_b",
                 confirm_not_duplicate=True)
    html = client_for("teller_b").get(reverse("web:person_detail", args=[p.pk])).content.decode()
    assert 'id="duplicates"' in html
    assert "Salimata" not in html


def test_merge_helper_used_by_views_keeps_page_of_merged(world, client_for):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988)
    b = register(world, first_name="Sira", last_name="Konate", birth_year=1988,
                 confirm_not_duplicate=True)
    person_merge(acting_user=world.users["admin"], survivor=b, merged=a, reason="Même carte")
    r = client_for("manager_a").get(reverse("web:person_detail", args=[a.pk]), follow=True)
    assert r.redirect_chain == [(reverse("web:person_detail", args=[b.pk]), 302)]
    assert "C001-000001" in r.content.decode()
