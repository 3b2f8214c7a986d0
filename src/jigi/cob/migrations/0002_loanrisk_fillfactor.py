"""PostgreSQL: leave half of each cob_loanrisk page free.

Close of business rewrites every loan's row every day (accrual moves each day) with an
upsert. With room on the page PostgreSQL keeps the new version there and touches no index
(a heap-only update), instead of a new tuple plus two index entries written to the log
(docs/PERFORMANCE.md, "Close of business"). The table is small (about 140 bytes a loan). SQLite
updates rows in place anyway."""

from django.db import migrations


def fillfactor(value: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE cob_loanrisk SET (fillfactor = {int(value)})")
    return apply


class Migration(migrations.Migration):
    dependencies = [("cob", "0001_initial")]

    operations = [migrations.RunPython(fillfactor(50), fillfactor(100))]
