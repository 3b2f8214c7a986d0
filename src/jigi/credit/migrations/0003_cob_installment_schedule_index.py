"""An index on each loan's schedule for close of business (and the reports "as of" a date).

Close of business reads, for every active loan every day, the instalment due next (smallest
number due after the date), the last due date passed and the unpaid instalments already due.
With (loan, version, due_on, paid_on, number) the first two come from the index alone and the
third reads only the unpaid rows: a day no longer reads each loan's 13 instalment rows
(docs/PERFORMANCE.md, "Close of business"). Its first four columns are those of
reports_inst_asof, which reports/0003 drops. Raw SQL as in reports/0002: the same statement on
SQLite and PostgreSQL, and no change to the models."""

from django.db import migrations

INDEX = ("CREATE INDEX IF NOT EXISTS cob_inst_schedule ON credit_installment "
         "(loan_id, version, due_on, paid_on, number)")


class Migration(migrations.Migration):
    dependencies = [("credit", "0002_usury_caps_and_chart")]

    operations = [migrations.RunSQL(INDEX, "DROP INDEX IF EXISTS cob_inst_schedule")]
