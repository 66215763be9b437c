"""The weekly email: who gets it, what it says, and that it carries no health details."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from accounts import services as accounts
from conftest import make_user
from diary import services
from diary.models import BodyPart

pytestmark = pytest.mark.django_db


def send() -> str:
    out = StringIO()
    call_command("send_digests", stdout=out)
    return out.getvalue()


def verified(*users):
    for user in users:
        accounts.mark_email_verified(user=user)


def test_patients_and_doctors_get_their_email(patient, other_patient, doctor, settings):
    settings.SITE_URL = "https://painmap.example.org"
    verified(patient, other_patient, doctor)
    other_patient.digest_emails = False  # opted out in the profile
    other_patient.save()
    link = accounts.request_link(patient=patient, doctor=doctor)
    accounts.change_link(link=link, by=doctor, status="active")
    services.record_pain(
        owner=patient,
        body_part=BodyPart.objects.get(name="knee-left"),
        pain_type="stabbing",
        intensity=9,
        description="secret detail",
    )
    assert send() == "Sent 2 digest emails.\n"
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"alice@example.com", "drwho@example.com"}
    to_patient = by_recipient["alice@example.com"].body
    assert "https://painmap.example.org/diary/digest/?days=7" in to_patient
    to_doctor = by_recipient["drwho@example.com"].body
    assert "1 of your 1 patients may need attention" in to_doctor
    assert "@alice" in to_doctor
    for body in (to_patient, to_doctor):
        for detail in ("9", "knee", "Knee", "stabbing", "secret detail"):
            assert detail not in body


def test_doctor_without_patients_gets_nothing(doctor):
    verified(doctor)
    assert send() == "Sent 0 digest emails.\n"
    assert mail.outbox == []


def test_calm_week_for_a_doctor(patient, doctor):
    verified(patient, doctor)
    make_user("carol")
    link = accounts.request_link(patient=patient, doctor=doctor)
    accounts.change_link(link=link, by=doctor, status="active")
    send()
    to_doctor = next(message for message in mail.outbox if message.to == ["drwho@example.com"])
    assert "None of your 1 patients stands out this week." in to_doctor.body


def test_profile_opt_out(client, patient):
    client.force_login(patient)
    client.post(
        "/accounts/profile/",
        {"first_name": "", "last_name": "", "email": "alice@example.com", "timezone": ""},
    )
    patient.refresh_from_db()
    assert patient.digest_emails is False  # an unticked box is an opt-out


def test_unverified_addresses_get_no_digest(patient, other_patient, doctor):
    """An address nobody has proven may belong to someone who never signed up for Painmap."""
    verified(other_patient)
    link = accounts.request_link(patient=patient, doctor=doctor)
    accounts.change_link(link=link, by=doctor, status="active")
    assert send() == "Sent 1 digest email.\n"
    assert [message.to for message in mail.outbox] == [["bob@example.com"]]
    # Once the patient and the doctor prove their addresses, they get theirs too.
    verified(patient, doctor)
    mail.outbox.clear()
    assert send() == "Sent 3 digest emails.\n"
    assert {message.to[0] for message in mail.outbox} == {
        "alice@example.com",
        "bob@example.com",
        "drwho@example.com",
    }
