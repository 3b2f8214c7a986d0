from jigi.movement.models import MemberProfile
from tests.movement.conftest import make_member


def test_fixture_makes_members(mtc):
    p = make_member(mtc, birth_year=2011)
    t = make_member(mtc, "teachers", sex="M")
    assert p.domestic.daily_hours == 12
    assert t.teacher.status == "community"
    assert MemberProfile.objects.count() == 2
    assert p.membership.unit == mtc.sections["domestic"]
