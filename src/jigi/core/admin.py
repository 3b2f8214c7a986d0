from django.contrib import admin

from jigi.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "event_type", "subject_type", "subject_id")
    list_filter = ("event_type",)

    def has_change_permission(self, request, obj=None):  # audit rows are immutable
        return False

    def has_delete_permission(self, request, obj=None):
        return False
