from datetime import date

from django.db import migrations, models


def seed_gni(apps, schema_editor):
    # World Bank, World Development Indicators, NY.GNP.PCAP.CD (Atlas method), Mali 2023:
    # about US$ 850 a head, at about 600 F CFA to the dollar. An order of magnitude for the
    # "average loan / GNI per capita" depth indicator; replace it with the year's figure.
    GniPerCapita = apps.get_model("reports", "GniPerCapita")
    GniPerCapita.objects.get_or_create(since=date(2024, 7, 1), defaults={
        "francs": 510_000,
        "source": "Banque mondiale, WDI NY.GNP.PCAP.CD (méthode Atlas), Mali 2023 : "
                  "environ 850 USD x 600 F CFA",
    })


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="GniPerCapita",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("since", models.DateField(unique=True, verbose_name="in force since")),
                ("francs", models.BigIntegerField(verbose_name="GNI per capita, F CFA")),
                ("source", models.CharField(max_length=300, verbose_name="source")),
            ],
            options={"ordering": ["-since"]},
        ),
        migrations.RunPython(seed_gni, migrations.RunPython.noop),
    ]
