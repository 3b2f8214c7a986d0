from datetime import date

from django.apps import AppConfig
from django.db.models.signals import post_migrate

# World Bank, World Development Indicators, NY.GNP.PCAP.CD (Atlas method), Mali 2023: about
# US$ 850 a head, at about 600 F CFA to the dollar (the figure migration 0001 writes).
DEFAULT_GNI = {"since": date(2024, 7, 1), "francs": 510_000,
               "source": "Banque mondiale, WDI NY.GNP.PCAP.CD (méthode Atlas), Mali 2023 : "
                         "environ 850 USD x 600 F CFA"}


def _seed_gni(sender, apps=None, using="default", **kwargs) -> None:
    """Put back the default GNI per capita after a `flush` (which sends post_migrate), as
    credit does for its usury caps; a figure already there is left as it is."""
    try:
        GniPerCapita = (apps or sender.apps).get_model("reports", "GniPerCapita")  # noqa: N806
    except LookupError:
        return
    GniPerCapita.objects.using(using).get_or_create(
        since=DEFAULT_GNI["since"],
        defaults={"francs": DEFAULT_GNI["francs"], "source": DEFAULT_GNI["source"]})


class ReportsConfig(AppConfig):
    name = "jigi.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        post_migrate.connect(_seed_gni, sender=self, dispatch_uid="jigi.reports.seed_gni")
