"""`python manage.py send_reminders`: run it from cron every 5 minutes (see clinical.reminders).

Idempotent: running it twice, or two at once, sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from clinical.reminders import send_due_reminders


class Command(BaseCommand):
    help = "Send the reminders and unread-chat emails that are due (for cron, every few minutes)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_due_reminders()
        # The operator's language (a command runs in LANGUAGE_CODE unless told otherwise); each
        # reminder itself went out in its recipient's language.
        self.stdout.write(
            ngettext("Sent %(count)s reminder.", "Sent %(count)s reminders.", sent)
            % {"count": sent}
        )
