"""The weekly email, for cron: `python manage.py send_digests` (e.g. Mondays at 07:00).

Patients get a link to their digest; doctors get the names of patients who may need attention.
No health details are ever written into an email: numbers and body parts stay behind sign-in.
Only verified addresses get it (see accounts.services.verify_email).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import DOCTORS, PATIENTS, User
from core.i18n import language_of
from diary.digest import patients_by_attention


def _link(name: str, query: str = "") -> str:
    return f"{settings.SITE_URL}{reverse(name)}{query}"


def patient_message(patient: User) -> mail.EmailMessage:
    """The patient's weekly email, in their profile's language."""
    with translation.override(language_of(patient)):
        body = _(
            "Hello %(name)s,\n\n"
            "Your Painmap digest of the past week is ready:\n"
            "%(digest_url)s\n\n"
            "It shows how your pain changed, day by day and body part by body part, and you can\n"
            "print it or download it for your next appointment.\n\n"
            "You can turn these emails off in your profile: %(profile_url)s\n"
        ) % {
            "name": patient.display_name(),
            "digest_url": _link("diary:digest", "?days=7"),
            "profile_url": _link("profile"),
        }
        return mail.EmailMessage(_("Your Painmap week"), body, to=[patient.email])


def doctor_message(doctor: User, attention: list[User], total: int) -> mail.EmailMessage:
    """The doctor's weekly email, in their profile's language."""
    with translation.override(language_of(doctor)):
        if attention:
            names = "\n".join(
                f"  - {patient.display_name()} (@{patient.username})" for patient in attention
            )
            summary = ngettext(
                "%(count)s of your %(total)s patients may need attention this week:\n%(names)s\n",
                "%(count)s of your %(total)s patients may need attention this week:\n%(names)s\n",
                total,
            ) % {"count": len(attention), "total": total, "names": names}
        else:
            summary = ngettext(
                "None of your %(total)s patients stands out this week.\n",
                "None of your %(total)s patients stands out this week.\n",
                total,
            ) % {"total": total}
        body = _(
            "Hello %(name)s,\n\n%(summary)s\n"
            "See them, sorted by who needs attention first: %(patients_url)s\n\n"
            "You can turn these emails off in your profile: %(profile_url)s\n"
        ) % {
            "name": doctor.display_name(),
            "summary": summary,
            "patients_url": _link("diary:patients"),
            "profile_url": _link("profile"),
        }
        return mail.EmailMessage(_("Your patients this week on Painmap"), body, to=[doctor.email])


class Command(BaseCommand):
    help = "Email the weekly digest link to patients and an attention summary to doctors."

    def handle(self, *args: Any, **options: Any) -> None:
        # Only proven addresses: an unverified one may belong to someone who never signed up.
        recipients = User.objects.with_verified_email().filter(is_active=True, digest_emails=True)
        messages = [
            patient_message(patient)
            for patient in recipients.filter(groups__name=PATIENTS).exclude(groups__name=DOCTORS)
        ]
        for doctor in recipients.filter(groups__name=DOCTORS):
            rows = patients_by_attention(doctor)
            if rows:
                attention = [row.patient for row in rows if row.needs_attention]
                messages.append(doctor_message(doctor, attention, len(rows)))
        with mail.get_connection() as connection:
            sent = connection.send_messages(messages) or 0
        self.stdout.write(f"Sent {sent} digest email{'s' if sent != 1 else ''}.")
