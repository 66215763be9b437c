"""`python manage.py send_reminders`: run it from cron every 5 minutes (see clinical.reminders).

Idempotent: running it twice, or two at once, sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clinical.reminders import send_due_reminders


class Command(BaseCommand):
    help = "Send the reminders and unread-chat emails that are due (for cron, every few minutes)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_due_reminders()
        self.stdout.write(f"Sent {sent} reminder{'s' if sent != 1 else ''}.")
