"""Covering indexes for reports "as of" a date (reports.portfolio): the portfolio statement
reads loans, instalments and loan transactions through these narrow indexes instead of the
wide rows (terms and portions JSON). Created here, not in credit, because only reports need
them; the same SQL runs on SQLite and PostgreSQL."""

from django.db import migrations

INDEXES = {
    "reports_loantx_asof": "credit_loantransaction (loan_id, value_date, kind, reversed, "
                           "principal, amount)",
    "reports_inst_asof": "credit_installment (loan_id, version, due_on, paid_on)",
    "reports_loan_asof": "credit_loan (caisse_id, disbursed_on, closed_on, written_off_on, "
                         "person_id, principal, compulsory_savings, product_id, "
                         "loan_officer_id)",
}


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("credit", "0002_usury_caps_and_chart")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {target}",
                          f"DROP INDEX IF EXISTS {name}")
        for name, target in INDEXES.items()
    ]
