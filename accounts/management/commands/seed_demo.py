"""Demo accounts for a first look at the app (`make run` calls this)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts import services
from accounts.models import User

DEMO_ACCOUNTS = (
    # username, email, password, role
    ("doctor", "doctor@example.com", "painmap-doctor-demo", "doctor"),
    ("patient", "patient@example.com", "painmap-patient-demo", "patient"),
)


class Command(BaseCommand):
    help = "Create a demo doctor and a demo patient (DEBUG only; existing accounts are kept)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no demo accounts are created.")
            return
        for username, email, password, role in DEMO_ACCOUNTS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = services.register_user(username=username, email=email, password=password)
                services.set_role(users=[user], role=role)
                # Nobody can open a link sent to example.com; the demo shows a finished account.
                services.mark_email_verified(user=user)
                self.stdout.write(f"Created demo {role}: {username} / {password}")
            elif user.check_password(password):
                self.stdout.write(f"Demo {role}: {username} / {password}")
            else:
                self.stdout.write(f"Demo {role}: {username} (its password was changed; kept)")
