from __future__ import annotations

from django.contrib import admin

from messaging.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "sender", "receiver", "timestamp", "read_at"]
    list_select_related = ["sender", "receiver"]
    raw_id_fields = ["sender", "receiver"]
    search_fields = ["sender__username", "receiver__username"]
