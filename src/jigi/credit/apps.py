from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_usury_caps(sender, apps=None, using="default", **kwargs) -> None:
    """The legal usury caps (teg.DEFAULT_USURY_CAPS) are reference data that migration 0002
    writes; `flush` (and every test that empties the database) removes them, and sends
    post_migrate: put back the ones missing so a flushed database reads the same caps as a
    migrated one. Caps already there (a rate an administrator corrected) are left as they are."""
    from jigi.credit.teg import DEFAULT_USURY_CAPS

    try:
        UsuryCap = (apps or sender.apps).get_model("credit", "UsuryCap")  # noqa: N806
    except LookupError:  # credit's tables are not there yet
        return
    for cap in DEFAULT_USURY_CAPS:
        UsuryCap.objects.using(using).get_or_create(
            lender=cap.lender, since=cap.since, defaults={"rate": cap.rate})


class CreditConfig(AppConfig):
    name = "jigi.credit"
    label = "credit"
    verbose_name = "Credit"

    def ready(self) -> None:
        post_migrate.connect(_seed_usury_caps, sender=self,
                             dispatch_uid="jigi.credit.seed_usury_caps")
