"""A convention's tariff from a CSV file: the pure reader (health.tariff_csv: every problem on
its line, never an exception, whole francs only, the service's limits) and the import service
(all or nothing, items added or changed by code, scoped like the tariff's other writes)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.models import AuditEvent
from jigi.health import tariff_csv as tc
from jigi.health.models import ServiceGroup, TariffItem
from jigi.health.services.providers import _clean_item
from jigi.health.services.tariffs_import import (
    MESSAGES,
    TariffRefused,
    group_aliases,
    problem_text,
    tariff_import,
)

GROUPS = {g: g for g in ServiceGroup.values}


@pytest.fixture(autouse=True)
def _fixture_names_left_as_found(monkeypatch):
    """The health fixture names its families from a counter shared by the whole run, and
    later modules' tests rely on the names their place in the run gives them (e.g. no
    "Lassina" yet): this module's families come from a copy, so it shifts nobody's names."""
    import tests.health.conftest as health_conftest

    monkeypatch.setattr(health_conftest, "_names", copy.copy(health_conftest._names))


def _codes(parsed: tc.Parsed) -> list[tuple[int, str, str]]:
    return [(p.line, p.column, p.code) for p in parsed.problems]


# --- the pure reader --------------------------------------------------------------------------


def test_a_tariff_with_its_header_reads_into_clean_items():
    text = ("code;label;kind;group;price;max_quantity\r\n"
            "cons;Consultation curative;acte;consultation;1 500;1\r\n"
            "\r\n"
            'PARA;"Paracétamol 500 mg; comprimé";Médicament;drugs;25;\r\n'
            "HOSP;Journée d'hospitalisation;act;hospitalisation;2500.00;10\r\n")
    parsed = tc.parse(text, groups=GROUPS)
    assert parsed.ok
    assert parsed.items == (
        tc.Item("CONS", "Consultation curative", "act", "consultation", 1_500, 1),
        tc.Item("PARA", "Paracétamol 500 mg; comprimé", "drug", "drugs", 25, None),
        tc.Item("HOSP", "Journée d'hospitalisation", "act", "hospitalisation", 2_500, 10),
    )


def test_without_a_header_the_columns_are_in_the_documented_order_and_the_last_is_optional():
    parsed = tc.parse("CONS;Consultation;act;consultation;1500\nGE;Goutte épaisse;act;lab;1000;1;;",
                      groups=GROUPS)
    assert parsed.ok
    assert [(i.code, i.max_quantity) for i in parsed.items] == [("CONS", None), ("GE", 1)]


def test_a_header_may_name_the_columns_in_another_order_in_french():
    text = "Prix;Code;Libellé;Groupe;Type;Quantité max\n800;ACT;Artéméther;drugs;drug;2\n"
    parsed = tc.parse(text, groups=GROUPS)
    assert parsed.items == (tc.Item("ACT", "Artéméther", "drug", "drugs", 800, 2),)


def test_every_problem_of_every_line_is_reported_with_its_line_number():
    text = ("code;label;kind;group;price;max_quantity\n"
            "CONS;Consultation;act;consultation;1500;1\n"   # 2: fine
            "GE;;acte;lab;12,5;0\n"                          # 3: label, price, quantity
            "CONS;Encore;act;consultation;1500;1\n"          # 4: duplicate of line 2
            "N F S;NFS;analyse;labo;-3\n"                    # 5: code, kind, group, price
            "PARA;Paracétamol\n"                             # 6: columns
            "X;Y;act;lab;99999999999\n")                     # 7: price too large
    parsed = tc.parse(text, groups=GROUPS)
    assert not parsed.ok
    assert _codes(parsed) == [
        (3, "label", tc.LABEL_REQUIRED), (3, "price", tc.PRICE), (3, "max_quantity", tc.QUANTITY),
        (4, "code", tc.DUPLICATE),
        (5, "code", tc.CODE), (5, "kind", tc.KIND), (5, "group", tc.GROUP),
        (5, "price", tc.PRICE_NOT_POSITIVE),
        (6, "", tc.COLUMN_COUNT),
        (7, "price", tc.PRICE_TOO_LARGE),
    ]
    assert parsed.problems[3].detail == "2"  # the line the code was first seen on
    assert parsed.lines[5] == "N F S;NFS;analyse;labo;-3"
    # A fractional franc is named as such.
    fraction = tc.parse("A;B;act;lab;12.5", groups=GROUPS)
    assert _codes(fraction) == [(1, "price", tc.PRICE_FRACTION)]


def test_files_that_are_not_a_tariff_are_refused_as_a_whole():
    assert _codes(tc.parse("", groups=GROUPS)) == [(0, "", tc.EMPTY)]
    assert _codes(tc.parse("code;label;kind;group;price\n", groups=GROUPS)) == [
        (0, "", tc.EMPTY)]
    assert _codes(tc.parse("code;label;kind;colour;price\nA;B;act;lab;1", groups=GROUPS)) == [
        (1, "", tc.HEADER)]
    assert _codes(tc.parse("A;B;act;lab;1\n" * (tc.MAX_LINES + 2), groups=GROUPS)) == [
        (0, "", tc.TOO_MANY_LINES)]
    # A quote never closed swallows the rest of the file into one line, which is refused.
    assert _codes(tc.parse('A;"B;act;lab;1\nC;D;act;lab;2', groups=GROUPS)) == [
        (1, "", tc.COLUMN_COUNT)]
    assert _codes(tc.parse("A;B\x00;act;lab;1", groups=GROUPS)) == [
        (1, "label", tc.LABEL_CONTROL)]
    # A field beyond what the csv module reads at all.
    assert _codes(tc.parse("A;" + "B" * 140_000 + ";act;lab;1", groups=GROUPS)) == [
        (1, "", tc.UNREADABLE)]
    assert tc.decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") is None
    assert tc.decode("code;label\n".encode("utf-8-sig")) == "code;label\n"
    assert tc.decode("Médicament".encode("cp1252")) == "Médicament"


_codes_st = st.from_regex(r"[A-Z0-9][A-Z0-9_.-]{0,23}", fullmatch=True)
_label_st = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                    max_size=60).map(str.strip).filter(bool)
_item_st = st.builds(tc.Item, code=_codes_st, label=_label_st,
                     kind=st.sampled_from(["act", "drug"]),
                     group=st.sampled_from(ServiceGroup.values),
                     price=st.integers(1, tc.MAX_PRICE),
                     max_quantity=st.none() | st.integers(1, tc.MAX_QUANTITY))


@given(items=st.lists(_item_st, min_size=1, max_size=20, unique_by=lambda i: i.code),
       header=st.booleans())
@settings(max_examples=150, deadline=None)
def test_a_rendered_tariff_reads_back_the_same(items, header):
    parsed = tc.parse(tc.render(items, header=header), groups=GROUPS)
    assert parsed.problems == ()
    assert list(parsed.items) == items


@given(items=st.lists(_item_st, min_size=2, max_size=10, unique_by=lambda i: i.code),
       data=st.data())
@settings(max_examples=100, deadline=None)
def test_one_bad_price_spoils_exactly_its_line(items, data):
    bad = data.draw(st.integers(0, len(items) - 1))
    price = data.draw(st.sampled_from(["12,5", "1.5", "abc", "0", "-100", "1e3", ""]))
    lines = tc.render(items, header=True).split("\r\n")
    cells = lines[bad + 1].rsplit(";", 2)
    lines[bad + 1] = f"{cells[0]};{price};{cells[2]}"
    parsed = tc.parse("\r\n".join(lines), groups=GROUPS)
    assert not parsed.ok
    assert {p.line for p in parsed.problems} == {bad + 2}
    assert [p.column for p in parsed.problems] == ["price"]
    assert len(parsed.items) == len(items) - 1


@given(text=st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_items_or_problems_never_an_exception(text):
    parsed = tc.parse(text, groups=GROUPS)
    n_lines = len(text.splitlines()) + 1
    assert all(0 <= p.line <= n_lines for p in parsed.problems)
    assert parsed.ok == (not parsed.problems and bool(parsed.items))


@given(item=_item_st)
@settings(max_examples=150, deadline=None)
def test_what_the_reader_accepts_the_tariff_service_accepts(item):
    """The reader applies the convention service's limits: an imported item is one that
    tariff_item_save would have taken."""
    clean = _clean_item(item.as_dict(), "item")
    assert clean == item.as_dict()


def test_every_problem_has_words():
    for code in MESSAGES:
        assert problem_text(tc.Problem(3, "price", code, "7")) != code
    aliases = group_aliases()
    assert aliases["drugs"] == "drugs"
    # A group's label (here in English) is accepted as well as its code.
    assert aliases[tc.fold("Essential drugs")] == "drugs"
    assert aliases[tc.fold("Transport (evacuation)")] == "transport"


# --- the service ------------------------------------------------------------------------------

GOOD = ("code;label;kind;group;price;max_quantity\n"
        "CONS;Consultation curative;act;consultation;2000;1\n"   # changed: 1 500 -> 2 000
        "PARA;Paracétamol 500 mg (comprimé);drug;drugs;25;30\n"    # unchanged
        "ECHO;Échographie obstétricale;act;antenatal;7500;1\n")    # new


def test_a_good_file_adds_and_changes_items_in_one_audit_row(health):
    conv = health.convention
    before = TariffItem.objects.filter(convention=conv).count()
    result = tariff_import(acting_user=health.users["union_admin"], convention=conv,
                           data=GOOD.encode("utf-8"))
    assert (result.added, result.changed, result.unchanged) == (["ECHO"], ["CONS"], ["PARA"])
    assert TariffItem.objects.filter(convention=conv).count() == before + 1
    assert TariffItem.objects.get(convention=conv, code="CONS").price == 2_000
    echo = TariffItem.objects.get(convention=conv, code="ECHO")
    assert (echo.group, echo.kind, echo.price, echo.max_quantity) == ("antenatal", "act",
                                                                      7_500, 1)
    audit = AuditEvent.objects.get(event_type="health.tariff_imported")
    assert audit.after["added"] == ["ECHO"]
    assert audit.after["changed"] == ["CONS"]


def test_one_bad_line_writes_nothing_and_says_which(health):
    conv = health.convention
    prices = dict(TariffItem.objects.filter(convention=conv).values_list("code", "price"))
    audits = AuditEvent.objects.count()
    bad = GOOD + "RX;Radio du thorax;act;imagerie;12000;1\n"
    with pytest.raises(TariffRefused) as caught:
        tariff_import(acting_user=health.users["union_admin"], convention=conv, data=bad)
    exc = caught.value
    assert exc.status_code == 422
    assert [(p.line, p.text) for p in exc.lines] == [(5, "RX;Radio du thorax;act;imagerie;"
                                                         "12000;1")]
    assert exc.lines[0].messages == [str(MESSAGES[tc.GROUP])]
    assert "Une ligne" in str(exc.message) or "One line" in str(exc.message)
    assert dict(TariffItem.objects.filter(convention=conv).values_list("code", "price")) == \
        prices
    assert AuditEvent.objects.count() == audits


def test_who_may_import(health, world):
    from jigi.health.services import convention_create

    conv = health.convention  # union-wide: the union administrator's
    for username, error in (("mutual_manager", Forbidden), ("claims_officer", Forbidden),
                            ("teller_a", NotFound), ("organiser", NotFound)):
        with pytest.raises(error):
            tariff_import(acting_user=world.users[username], convention=conv, data=GOOD)
    own = convention_create(acting_user=world.users["mutual_manager"], provider=health.provider,
                            mutual=world.mutual_1, reference="M01-CSCOM", valid_from=health.today)
    result = tariff_import(acting_user=world.users["mutual_manager"], convention=own, data=GOOD)
    assert len(result.added) == 3
    # Another mutual's manager does not even see it.
    with pytest.raises(NotFound):
        tariff_import(acting_user=world.users["manager_2"], convention=own, data=GOOD)
    assert TariffItem.objects.filter(convention=own).count() == 3


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00", b"", "   \n", 12,
                                  b"x" * (tc.MAX_BYTES + 1)])
def test_what_is_not_a_tariff_file_is_refused_as_a_whole(health, data):
    with pytest.raises(ApplicationError) as caught:
        tariff_import(acting_user=health.users["union_admin"], convention=health.convention,
                      data=data)
    assert caught.value.status_code == 422
    assert caught.value.lines[0].line == 0
    assert not TariffItem.objects.filter(convention=health.convention, code="ECHO").exists()
