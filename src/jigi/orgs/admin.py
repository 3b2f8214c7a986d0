from django.contrib import admin

from jigi.orgs.models import Organisation, StaffRole, Unit

admin.site.register(Organisation)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "organisation", "region", "cercle")
    list_filter = ("organisation", "kind", "region")
    search_fields = ("code", "name")


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "organisation", "unit", "revoked_at")
