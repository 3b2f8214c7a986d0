import pytest

from jigi.movement.models import MemberProfile
from tests.movement.conftest import make_member


def test_fixture_makes_members(mtc):
    p = make_member(mtc, birth_year=2011)
    t = make_member(mtc, "teachers", sex="M")
    assert p.domestic.daily_hours == 12
    assert t.teacher.status == "community"
    assert MemberProfile.objects.count() == 2
    assert p.membership.unit == mtc.sections["domestic"]


def test_legal_figures_hold_before_the_movement_is_set_up(db):
    from datetime import date

    from jigi.movement.models import LegalSetting
    from jigi.movement.setup import legal_value

    assert not LegalSetting.objects.exists()
    assert legal_value("adult_age", date(2026, 1, 1)) == 18
    assert legal_value("smig_month", date(2026, 1, 1)) == 40_000
    with pytest.raises(LookupError):
        legal_value("smig_month", date(2010, 1, 1))
