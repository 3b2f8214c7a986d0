"""The coverage side in Django's admin, read-only: every change goes through the services
(scope checks, validation, ledger postings, audit rows), which the admin would bypass."""

from __future__ import annotations

from django.contrib import admin

from jigi.health.models import (
    Beneficiary,
    BenefitPackage,
    BenefitRule,
    Contribution,
    ContributionDue,
    Convention,
    Coverage,
    GroupAgreement,
    MutualProfile,
    Provider,
    StandingOrder,
    SuspensionPeriod,
    TariffItem,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RuleInline(admin.TabularInline):
    model = BenefitRule
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class BeneficiaryInline(RuleInline):
    model = Beneficiary


class TariffInline(RuleInline):
    model = TariffItem


@admin.register(MutualProfile)
class MutualProfileAdmin(ReadOnly):
    list_display = ("unit", "area_kind", "area", "target_population", "last_general_assembly")


@admin.register(BenefitPackage)
class PackageAdmin(ReadOnly):
    list_display = ("code", "name", "mutual", "contribution", "contribution_basis", "frequency",
                    "active")
    list_filter = ("active", "frequency")
    inlines = [RuleInline]


@admin.register(Coverage)
class CoverageAdmin(ReadOnly):
    list_display = ("number", "mutual", "package", "member", "status", "enrolled_on",
                    "paid_through")
    list_filter = ("status", "mutual")
    search_fields = ("number", "beneficiaries__card_number")
    inlines = [BeneficiaryInline]


@admin.register(ContributionDue)
class DueAdmin(ReadOnly):
    list_display = ("coverage", "period_start", "period_end", "amount", "paid", "recognised")


@admin.register(Contribution)
class ContributionAdmin(ReadOnly):
    list_display = ("receipt_number", "coverage", "paid_on", "amount", "card_fee", "channel",
                    "reversed_by")
    search_fields = ("receipt_number",)


@admin.register(SuspensionPeriod)
class SuspensionAdmin(ReadOnly):
    list_display = ("coverage", "start", "end", "reason")


@admin.register(StandingOrder)
class StandingOrderAdmin(ReadOnly):
    list_display = ("coverage", "account", "amount", "day_of_month", "active", "last_run_on",
                    "last_result")


@admin.register(GroupAgreement)
class AgreementAdmin(ReadOnly):
    list_display = ("name", "mutual", "partner", "package", "signed_on", "payer")


@admin.register(Provider)
class ProviderAdmin(ReadOnly):
    list_display = ("code", "name", "kind", "region", "cercle", "active")
    list_filter = ("kind", "region", "active")
    search_fields = ("code", "name")


@admin.register(Convention)
class ConventionAdmin(ReadOnly):
    list_display = ("reference", "provider", "mutual", "valid_from", "valid_until")
    inlines = [TariffInline]
