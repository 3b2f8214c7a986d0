from django.db import migrations

# DOMAIN.md §1: the SFD usury cap (UMOA usury law), kept by the UEMOA Council in Dec 2025.
CAPS = [("sfd", "2014-01-01", "24.00"), ("bank", "2014-01-01", "15.00"),
        ("bank", "2026-06-01", "14.00")]
# Accounts the credit module posts to that an existing SFD chart may lack.
ACCOUNTS = [("7025", "Récupérations sur créances passées en perte", "income", "70")]


def seed(apps, schema_editor):
    UsuryCap = apps.get_model("credit", "UsuryCap")
    for lender, since, rate in CAPS:
        UsuryCap.objects.get_or_create(lender=lender, since=since, defaults={"rate": rate})
    Organisation = apps.get_model("orgs", "Organisation")
    Account = apps.get_model("ledger", "Account")
    for org in Organisation.objects.filter(kind="sfd"):
        for code, name, kind, parent in ACCOUNTS:
            if Account.objects.filter(organisation=org, code=code).exists():
                continue
            Account.objects.create(organisation=org, code=code, name=name, kind=kind,
                                   parent=Account.objects.filter(organisation=org,
                                                                 code=parent).first(),
                                   postable=True)


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial"), ("ledger", "0001_initial"),
                    ("orgs", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
