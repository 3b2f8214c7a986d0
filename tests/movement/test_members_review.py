"""Review fixes on the members and dues code: each test failed before its fix."""

from __future__ import annotations

import re

from tests.movement.conftest import make_member


def test_member_page_title_is_her_name_only(mtc, client_for):
    # The title block was left open around a copy of the officer's form: the page's <title>
    # carried the form's markup as text.
    p = make_member(mtc)
    html = client_for("movement_admin").get(f"/movement/members/{p.pk}/").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "<" not in title
    assert p.person.first_name in title
    assert html.count('id="officer-form"') == 1
