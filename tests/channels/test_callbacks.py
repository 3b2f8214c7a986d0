"""Members' call-back requests: the list of the unit's staff (scoped, open first, newest
first), "Called" with a note (who, when; idempotent), and the refusals (404 outside the unit,
403 for the auditor)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jigi.channels.callbacks import callback_handle, callbacks_for_user, callbacks_open_count
from jigi.channels.models import CallbackRequest
from jigi.core.audit import AuditEvent
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.people.models import Person

URL = "web:channels_callbacks"


@pytest.fixture
def ask(db):
    """ask(unit, "Awa", minutes_ago=0) -> an open CallbackRequest of a new person."""
    counter = iter(range(1, 1000))

    def make(unit, first_name: str = "Awa", *, minutes_ago: int = 0) -> CallbackRequest:
        n = next(counter)
        phone = f"+2237611{n:04d}"
        person = Person.objects.create(first_name=first_name, last_name="Coulibaly", sex="F",
                                       phone=phone)
        request = CallbackRequest.objects.create(person=person, unit=unit, phone=phone,
                                                 topic="ussd")
        if minutes_ago:
            CallbackRequest.objects.filter(pk=request.pk).update(
                requested_at=timezone.now() - timedelta(minutes=minutes_ago))
        request.refresh_from_db()
        return request

    return make


def test_a_teller_sees_her_caisses_requests_open_first_newest_first(world, ask):
    old = ask(world.caisse_a, "Awa", minutes_ago=120)
    handled = ask(world.caisse_a, "Fanta", minutes_ago=5)
    new = ask(world.caisse_a, "Mariam", minutes_ago=30)
    ask(world.caisse_b, "Kadia")
    ask(world.mutual_1, "Oumou")
    callback_handle(acting_user=world.users["teller_a"], request_id=handled.pk, note="ok")
    rows = list(callbacks_for_user(world.users["teller_a"]))
    assert [r.pk for r in rows] == [new.pk, old.pk, handled.pk]
    assert callbacks_open_count(world.users["teller_a"]) == 2
    # Her caisse's manager sees the same; the other caisse's teller only hers.
    assert {r.pk for r in callbacks_for_user(world.users["manager_a"])} == {
        new.pk, old.pk, handled.pk}
    assert [r.person.first_name for r in callbacks_for_user(world.users["teller_b"])] == [
        "Kadia"]


def test_a_mutual_manager_sees_her_mutuals_requests_only(world, ask):
    mine = ask(world.mutual_1, "Oumou")
    ask(world.mutual_2, "Rokia")
    ask(world.caisse_a, "Awa")
    assert [r.pk for r in callbacks_for_user(world.users["mutual_manager"])] == [mine.pk]


def test_called_records_who_when_and_the_note_once(world, ask):
    request = ask(world.caisse_a)
    teller = world.users["teller_a"]
    done = callback_handle(acting_user=teller, request_id=request.pk,
                           note="  Rappelée, elle passera lundi  ")
    assert done.handled_by == teller
    assert done.handled_at is not None
    assert done.note == "Rappelée, elle passera lundi"
    first_at = done.handled_at
    again = callback_handle(acting_user=world.users["manager_a"], request_id=request.pk,
                            note="autre")
    request.refresh_from_db()
    assert (again.handled_at, again.handled_by, again.note) == (first_at, teller,
                                                                "Rappelée, elle passera lundi")
    assert (request.handled_by_id, request.note) == (teller.pk, "Rappelée, elle passera lundi")
    assert AuditEvent.objects.filter(event_type="channels.callback_handled").count() == 1


def test_refusals_of_the_service(world, ask):
    request = ask(world.caisse_a)
    for username in ("teller_b", "mutual_manager", "organiser", "clinic"):
        with pytest.raises(NotFound):
            callback_handle(acting_user=world.users[username], request_id=request.pk)
    with pytest.raises(Forbidden):
        callback_handle(acting_user=world.users["auditor"], request_id=request.pk)
    with pytest.raises(NotFound):
        callback_handle(acting_user=world.users["teller_a"], request_id=request.pk + 999)
    with pytest.raises(ApplicationError) as exc:
        callback_handle(acting_user=world.users["teller_a"], request_id=request.pk,
                        note="x" * 201)
    assert exc.value.status_code == 422
    request.refresh_from_db()
    assert request.handled_at is None
    assert request.note == ""
    assert not AuditEvent.objects.filter(event_type="channels.callback_handled").exists()


# --- the screen -------------------------------------------------------------------------------


def test_the_list_shows_name_phone_topic_and_the_count(world, ask, client_for):
    ask(world.caisse_a, "Awa")
    ask(world.caisse_b, "Kadia")
    r = client_for("teller_a").get(reverse(URL))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Awa Coulibaly" in body
    assert "+22376110001" in body
    assert "Kadia" not in body
    assert 'id="callbacks-open-count" ' in body
    assert r.context["open_count"] == 1
    assert 'name="note"' in body


def test_only_open_requests_on_demand(world, ask, client_for):
    done = ask(world.caisse_a, "Fanta")
    ask(world.caisse_a, "Awa")
    callback_handle(acting_user=world.users["teller_a"], request_id=done.pk)
    r = client_for("teller_a").get(reverse(URL), {"show": "open"})
    assert [row.person.first_name for row in r.context["rows"]] == ["Awa"]


def test_called_by_htmx_redraws_the_row(world, ask, client_for):
    request = ask(world.caisse_a)
    r = client_for("teller_a").post(reverse(URL), {"request": request.pk, "note": "Appelée"},
                                    HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.startswith(f'<tr id="callback-{request.pk}" data-open="no">')
    assert "Appelée" in body
    request.refresh_from_db()
    assert request.handled_by == world.users["teller_a"]


def test_called_without_htmx_redirects_to_the_list(world, ask, client_for):
    request = ask(world.mutual_1)
    r = client_for("mutual_manager").post(reverse(URL), {"request": request.pk})
    assert r.status_code == 302
    assert r.url == reverse(URL)
    request.refresh_from_db()
    assert request.handled_at is not None


def test_a_too_long_note_is_drawn_in_place_with_422(world, ask, client_for):
    request = ask(world.caisse_a)
    r = client_for("teller_a").post(reverse(URL), {"request": request.pk, "note": "x" * 201},
                                    HTTP_HX_REQUEST="true")
    assert r.status_code == 422
    assert 'role="alert"' in r.content.decode()
    request.refresh_from_db()
    assert request.handled_at is None


def test_screen_refusals(world, ask, client_for):
    request = ask(world.caisse_a)
    for username in ("organiser", "clinic"):
        assert client_for(username).get(reverse(URL)).status_code == 404
    assert client_for("teller_b").post(reverse(URL), {"request": request.pk}).status_code == 404
    assert client_for("teller_a").post(reverse(URL), {"request": "abc"}).status_code == 404
    auditor = client_for("auditor")
    assert auditor.get(reverse(URL)).status_code == 200  # reads
    assert auditor.post(reverse(URL), {"request": request.pk}).status_code == 403
    request.refresh_from_db()
    assert request.handled_at is None
    anonymous = client_for("teller_a")
    anonymous.logout()
    assert anonymous.get(reverse(URL)).status_code == 302  # to the login page


def test_the_list_reads_a_few_queries_whatever_the_number(world, ask, client_for,
                                                          django_assert_max_num_queries):
    for i in range(15):
        ask(world.caisse_a, f"Awa{i}")
    client = client_for("teller_a")
    with django_assert_max_num_queries(12):
        assert client.get(reverse(URL)).status_code == 200


# --- the API ----------------------------------------------------------------------------------


def test_api_lists_and_marks(world, ask):
    from tests.channels.test_api import client

    request = ask(world.caisse_a, "Awa")
    ask(world.caisse_b, "Kadia")
    r = client.get("/channels/callbacks?open=true", user=world.users["teller_a"])
    assert r.status_code == 200
    assert [(c["id"], c["name"], c["unit"]) for c in r.json()] == [
        (request.pk, "Awa Coulibaly", "C001")]
    r = client.post(f"/channels/callbacks/{request.pk}/handled", json={"note": "Appelée"},
                    user=world.users["teller_a"])
    assert r.status_code == 200
    assert (r.json()["handled_by"], r.json()["note"]) == ("teller_a", "Appelée")
    again = client.post(f"/channels/callbacks/{request.pk}/handled", json={"note": "bis"},
                        user=world.users["manager_a"])
    assert again.json()["note"] == "Appelée"
    assert client.get("/channels/callbacks?open=true", user=world.users["teller_a"]).json() == []


def test_api_refusals(world, ask):
    from tests.channels.test_api import client

    request = ask(world.caisse_a)
    assert client.get("/channels/callbacks", user=world.users["organiser"]).status_code == 404
    assert client.post(f"/channels/callbacks/{request.pk}/handled", json={},
                       user=world.users["teller_b"]).status_code == 404
    assert client.post(f"/channels/callbacks/{request.pk}/handled", json={},
                       user=world.users["auditor"]).status_code == 403
    r = client.post(f"/channels/callbacks/{request.pk}/handled", json={"note": "x" * 201},
                    user=world.users["teller_a"])
    assert r.status_code == 422
    assert "note" in r.json()["fields"]
    request.refresh_from_db()
    assert request.handled_at is None
