"""Create the three organisations, their root units, charts and head-office books (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from jigi.ledger.models import Book
from jigi.ledger.services import book_open, chart_seed
from jigi.orgs.models import Organisation, OrgKind, Unit, UnitKind
from jigi.orgs.services import unit_create

ORGANISATIONS = [
    ("KONDO", "Kondo Jigima", OrgKind.SFD, UnitKind.NETWORK, "RES", "Réseau Kondo Jigima"),
    ("UTM", "Union Technique de la Mutualité Malienne", OrgKind.MUTUAL_UNION, UnitKind.UNION,
     "UTM", "Union Technique de la Mutualité"),
    ("MTC", "Mouvement des Travailleurs", OrgKind.MOVEMENT, UnitKind.MOVEMENT, "MTC",
     "Mouvement des Travailleurs (Bamako)"),
]

# Units that keep their own books: each caisse and each mutual; the network, the union and the
# movement keep a head-office book.
BOOK_UNIT_KINDS = {UnitKind.CAISSE, UnitKind.MUTUAL, UnitKind.NETWORK, UnitKind.UNION,
                   UnitKind.MOVEMENT}


@dataclass
class Orgs:
    kondo: Organisation
    utm: Organisation
    mtc: Organisation
    network: Unit
    union: Unit
    movement: Unit


def organisations_bootstrap(acting_user=None) -> Orgs:
    roots = {}
    orgs = {}
    with transaction.atomic():
        for code, name, kind, root_kind, root_code, root_name in ORGANISATIONS:
            org, _ = Organisation.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
            chart_seed(organisation=org, acting_user=acting_user)
            root = Unit.objects.filter(organisation=org, parent__isnull=True).first()
            if root is None:
                root = accounting_unit_create(
                    organisation=org, kind=root_kind, code=root_code, name=root_name,
                    region="Bamako", cercle="Bamako", urban=True, acting_user=acting_user,
                )
            orgs[code] = org
            roots[code] = root
    return Orgs(orgs["KONDO"], orgs["UTM"], orgs["MTC"], roots["KONDO"], roots["UTM"], roots["MTC"])


def accounting_unit_create(*, organisation, kind, code, name, parent=None, acting_user=None,
                           **place) -> Unit:
    """Create a unit and, for units that keep accounts, its book, in one transaction."""
    with transaction.atomic():
        unit = unit_create(organisation=organisation, kind=kind, code=code, name=name,
                           parent=parent, acting_user=acting_user, **place)
        if kind in BOOK_UNIT_KINDS and not Book.objects.filter(unit=unit).exists():
            book_open(organisation=organisation, unit=unit, code=f"{organisation.code}-{code}",
                      name=f"{organisation.code} {name}", acting_user=acting_user)
    return unit
