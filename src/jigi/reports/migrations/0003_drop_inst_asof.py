"""reports_inst_asof (loan, version, due_on, paid_on) is the prefix of credit's
cob_inst_schedule (credit/0003: the same columns plus the number). The portfolio statement uses
that one; one index fewer to maintain on every repayment."""

from django.db import migrations

RECREATE = ("CREATE INDEX IF NOT EXISTS reports_inst_asof ON credit_installment "
            "(loan_id, version, due_on, paid_on)")


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_asof_indexes"),
                    ("credit", "0003_cob_installment_schedule_index")]

    operations = [migrations.RunSQL("DROP INDEX IF EXISTS reports_inst_asof", RECREATE)]
