from __future__ import annotations

from collections.abc import Iterable

from django.contrib import admin

from accounts.admin_reads import LogsReadsAdmin
from messaging.models import Message


@admin.register(Message)
class MessageAdmin(LogsReadsAdmin):
    read_what = "chat messages"
    list_display = ["id", "sender", "receiver", "timestamp", "read_at"]
    list_select_related = ["sender", "receiver"]
    raw_id_fields = ["sender", "receiver"]
    search_fields = ["sender__username", "receiver__username"]

    def read_people(self, obj: Message) -> Iterable[int]:
        # A message is both people's: each of them sees that an administrator read it.
        return [obj.sender_id, obj.receiver_id]
