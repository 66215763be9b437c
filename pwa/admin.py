from __future__ import annotations

from django.contrib import admin

from pwa.models import PushSubscription


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "created", "last_sent"]
    readonly_fields = ["user", "endpoint", "p256dh", "auth", "created", "last_sent"]
