"""Dated settings the reports need."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class GniPerCapita(models.Model):
    """Mali's gross national income per head, in francs CFA, in force from a date, with its
    source: the denominator of "average loan / GNI per capita" (social performance). A dated
    setting like the usury cap: a new figure is a new row, old reports keep the old one."""

    since = models.DateField(_("in force since"), unique=True)
    francs = models.BigIntegerField(_("GNI per capita, F CFA"))
    source = models.CharField(_("source"), max_length=300)

    class Meta:
        ordering = ["-since"]

    def __str__(self) -> str:
        return f"{self.since}: {self.francs}"
