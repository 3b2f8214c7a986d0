"""Who may read and who may write the books. Unit and organisation scoping is orgs.scoping's job;
these sets say which of a user's roles count for the ledger."""

from __future__ import annotations

from jigi.orgs.models import Role

# Staff who handle or oversee money. Clinic staff work for a provider, not for the union, and
# MTC case workers handle grievances, not dues: neither reads the books.
LEDGER_READ_ROLES: frozenset[str] = frozenset({
    Role.TELLER, Role.LOAN_OFFICER, Role.CAISSE_MANAGER, Role.NETWORK_AUDITOR, Role.NETWORK_ADMIN,
    Role.MUTUAL_MANAGER, Role.CLAIMS_OFFICER, Role.UNION_ADMIN,
    Role.ORGANISER, Role.MOVEMENT_ADMIN,
})

# Who may post a manual journal entry, reverse one and close a month: the manager of the unit
# that keeps the book and the organisation's administrator. Tellers post only through their
# operations (a deposit posts its own entry); auditors read and never write.
ACCOUNTANT_ROLES: frozenset[str] = frozenset({
    Role.CAISSE_MANAGER, Role.NETWORK_ADMIN,
    Role.MUTUAL_MANAGER, Role.UNION_ADMIN,
    Role.MOVEMENT_ADMIN,
})
