from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin_reads import LogsReadsAdmin
from diary.models import BodyPart, Note, PainEntry


@admin.register(BodyPart)
class BodyPartAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "label", "view")
    list_filter = ("view",)
    search_fields = ("name", "label")

    # The 44 parts are a contract with API clients: shown, never changed here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BodyPart | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BodyPart | None = None) -> bool:
        return False


@admin.register(PainEntry)
class PainEntryAdmin(LogsReadsAdmin):
    read_what = "pain entries"
    list_display = ("owner", "body_part", "pain_type", "intensity", "date_recorded")
    list_filter = ("pain_type", "body_part__view", "date_recorded")
    list_select_related = ("owner", "body_part")
    search_fields = ("owner__username", "body_part__name", "description")
    date_hierarchy = "date_recorded"
    raw_id_fields = ("owner",)


@admin.register(Note)
class NoteAdmin(LogsReadsAdmin):
    read_what = "notes"
    list_display = ("title", "owner", "created_on", "last_modified")
    list_select_related = ("owner",)
    search_fields = ("title", "owner__username")
    raw_id_fields = ("owner",)
