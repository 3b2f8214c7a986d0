"""Overdue alerts name the deadline they are about, so a reopened case (a new resolution
deadline) is alerted again; existing overdue alerts get their case's present deadline when it
had passed before they were raised. An alert raised before a reopening was about an earlier
deadline: it stays without one, so the new deadline is alerted when it passes."""

from django.conf import settings
from django.db import migrations, models


def fill_due_on(apps, schema_editor):
    CaseAlert = apps.get_model("movement", "CaseAlert")
    Case = apps.get_model("movement", "Case")
    for kind, column in [("first_action_overdue", "first_action_due"),
                         ("resolution_overdue", "resolution_due")]:
        deadline = models.Subquery(Case.objects.filter(pk=models.OuterRef("case_id"))
                                   .values(column)[:1])
        CaseAlert.objects.filter(kind=kind, due_on__isnull=True,
                                 raised_at__date__gt=deadline).update(due_on=deadline)


class Migration(migrations.Migration):

    dependencies = [
        ('movement', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='casealert',
            name='movement_alert_once',
        ),
        migrations.AddField(
            model_name='casealert',
            name='due_on',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(fill_due_on, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='casealert',
            constraint=models.UniqueConstraint(condition=models.Q(('due_on__isnull', True)), fields=('case', 'kind'), name='movement_alert_once'),
        ),
        migrations.AddConstraint(
            model_name='casealert',
            constraint=models.UniqueConstraint(condition=models.Q(('due_on__isnull', False)), fields=('case', 'kind', 'due_on'), name='movement_alert_once_per_deadline'),
        ),
    ]
