from __future__ import annotations

from itertools import count

from jigi.people.services import person_register

_phones = count(70_000_001)


def register(world, unit=None, user="teller_a", **fields):
    """Register a person through the real service (duplicate checks included)."""
    data = {
        "first_name": "Awa", "last_name": "Diarra", "sex": "F", "birth_year": 1990,
        "phone": f"+223{next(_phones)}", "village": "Siribala", "cercle": "Niono",
        "region": "Ségou",
    }
    data.update(fields)
    confirm = data.pop("confirm_not_duplicate", False)
    return person_register(acting_user=world.users[user], unit=unit or world.caisse_a,
                           confirm_not_duplicate=confirm, **data)
