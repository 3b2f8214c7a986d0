from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from jigi.demo.bulk import BulkInsertError, bulk_insert
from jigi.people.models import Consent, Person


@pytest.mark.django_db
def test_bulk_insert_returns_ids_and_fills_defaults():
    existing = Person.objects.create(first_name="Awa", last_name="Koné", sex="F")
    ids = bulk_insert(Person, ["first_name", "last_name", "sex", "birth_date", "birth_year"], [
        ("Moussa", "Traoré", "M", date(1980, 5, 1), 1980),
        ("Oumou", "Diarra", "F", None, 1975),
    ])
    assert ids == [existing.pk + 1, existing.pk + 2]
    moussa, oumou = Person.objects.filter(pk__in=ids).order_by("pk")
    assert (moussa.first_name, moussa.birth_date, moussa.birth_year) == (
        "Moussa", date(1980, 5, 1), 1980)
    assert oumou.birth_date is None
    # Unlisted columns take the model's default, NULL or creation time.
    assert oumou.literacy == "none"
    assert oumou.language == "bm"
    assert oumou.nina is None
    assert oumou.created_at is not None
    assert oumou.birth_year_estimated is False
    # The sequence moved past the explicit ids: an ordinary insert does not collide.
    after = Person.objects.create(first_name="Sira", last_name="Sow", sex="F")
    assert after.pk == ids[-1] + 1


@pytest.mark.django_db
def test_bulk_insert_refuses_unknown_columns_and_required_fields_left_out():
    with pytest.raises(BulkInsertError, match="unknown"):
        bulk_insert(Person, ["first_name", "shoe_size"], [("Awa", 38)])
    with pytest.raises(BulkInsertError, match="unknown"):
        bulk_insert(Person, ["id", "first_name"], [(5, "Awa")])
    with pytest.raises(BulkInsertError, match="person"):
        bulk_insert(Consent, ["scope", "purpose"], [("identity", "test")])
    assert not Person.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_bulk_insert_needs_the_callers_transaction():
    with pytest.raises(BulkInsertError, match="transaction"):
        bulk_insert(Person, ["first_name", "last_name", "sex"], [("Awa", "Koné", "F")])
    with transaction.atomic():
        bulk_insert(Person, ["first_name", "last_name", "sex"], [("Awa", "Koné", "F")])
    assert Person.objects.count() == 1
