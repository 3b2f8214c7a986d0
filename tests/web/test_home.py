from __future__ import annotations


def test_home_shows_each_role_its_first_tasks(world, client_for):
    teller = client_for("teller_a").get("/").content.decode()
    assert "/savings/drawer/" in teller
    assert "/people/register/" in teller
    auditor = client_for("auditor").get("/").content.decode()
    assert "/audit/" in auditor
    assert "/savings/drawer/" not in auditor


def test_home_requires_login(client, world):
    r = client.get("/")
    assert r.status_code == 302
    assert "/login/" in r["Location"]
