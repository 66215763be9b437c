from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from clinical import services
from clinical.delivery import EmailChannel, Notice, deliver
from clinical.models import CheckIn, ReminderSent
from clinical.reminders import send_due_reminders
from clinical.tests.conftest import record
from diary.models import PainEntry
from messaging.models import Message

pytestmark = pytest.mark.django_db

# Wednesday 4 March 2026, 19:30 UTC.
NOW = datetime(2026, 3, 4, 19, 30, tzinfo=UTC)


@pytest.fixture
def verified(patient):
    patient.email_verified_at = NOW - timedelta(days=30)
    patient.timezone = "Europe/Paris"  # UTC+1 in March: 20:30 local
    patient.save()
    return patient


def remind_daily(user, at=time(20, 0)):
    services.save_preferences(user=user, daily_reminder=True, daily_reminder_time=at)


def test_daily_reminder_after_its_local_time_and_only_once(verified):
    remind_daily(verified, time(20, 0))
    assert send_due_reminders(NOW - timedelta(hours=1)) == 0  # 19:30 in Paris: not yet
    assert send_due_reminders(NOW) == 1
    assert send_due_reminders(NOW + timedelta(minutes=5)) == 0  # twice: nothing twice
    first = mail.outbox[0]
    assert first.to == [verified.email]
    assert "/diary/" in first.body
    # The next day it is due again.
    assert send_due_reminders(NOW + timedelta(days=1)) == 1


def test_the_command_run_twice_sends_once(verified, monkeypatch):
    remind_daily(verified)
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    call_command("send_reminders", stdout=out)
    assert out.getvalue().splitlines() == ["Sent 1 reminder.", "Sent 0 reminders."]
    assert len(mail.outbox) == 1


def test_daily_reminder_follows_the_patients_zone(verified):
    verified.timezone = "America/New_York"  # 14:30 local at NOW
    verified.save()
    remind_daily(verified, time(20, 0))
    assert send_due_reminders(NOW) == 0
    assert send_due_reminders(NOW + timedelta(hours=6)) == 1  # 20:30 in New York


def test_no_daily_reminder_when_something_was_recorded_that_local_day(verified):
    remind_daily(verified, time(20, 0))
    entry = record(verified)
    PainEntry.objects.filter(pk=entry.pk).update(date_recorded=NOW - timedelta(hours=2))
    assert send_due_reminders(NOW) == 0
    # An entry from the day before (Paris) does not count.
    PainEntry.objects.filter(pk=entry.pk).update(
        date_recorded=datetime(2026, 3, 3, 22, 30, tzinfo=UTC)  # 23:30 on the 3rd in Paris
    )
    assert send_due_reminders(NOW) == 1


def test_no_reminders_to_unverified_inactive_or_unwilling(verified, other_patient):
    remind_daily(other_patient)  # email not verified
    services.save_preferences(user=verified, daily_reminder=False)
    assert send_due_reminders(NOW) == 0
    remind_daily(verified)
    verified.is_active = False
    verified.save()
    assert send_due_reminders(NOW) == 0


def test_checkin_reminder_on_the_day_or_later_until_done(verified):
    services.save_preferences(
        user=verified, checkin_reminder=True, checkin_weekday=3, daily_reminder_time=time(9, 0)
    )
    assert send_due_reminders(NOW) == 0  # Wednesday: the day is Thursday
    thursday = NOW + timedelta(days=1)
    assert send_due_reminders(thursday) == 1
    assert send_due_reminders(thursday + timedelta(days=1)) == 0  # once per week
    assert mail.outbox[0].subject == "Your weekly Painmap check-in"
    # Next week, done before the reminder: nothing.
    CheckIn.objects.create(
        patient=verified, week="2026-03-09", average=1, enjoyment=1, activity=1, score=1
    )
    assert send_due_reminders(thursday + timedelta(days=7)) == 0


def test_unread_chat_email_once_per_conversation_until_read(verified, doctor, settings):
    settings.UNREAD_EMAIL_AFTER = 3600
    message = Message.objects.create(sender=doctor, receiver=verified, text="Your results: X")
    Message.objects.filter(pk=message.pk).update(timestamp=NOW - timedelta(minutes=30))
    assert send_due_reminders(NOW) == 0  # not old enough
    Message.objects.filter(pk=message.pk).update(timestamp=NOW - timedelta(hours=2))
    assert send_due_reminders(NOW) == 1
    body = mail.outbox[0].body
    assert "Your results" not in body
    assert doctor.username not in body
    assert "/chat/" in body
    later = Message.objects.create(sender=doctor, receiver=verified, text="More")
    Message.objects.filter(pk=later.pk).update(timestamp=NOW - timedelta(hours=1, minutes=30))
    assert send_due_reminders(NOW + timedelta(hours=3)) == 0  # still the same unread run
    Message.objects.update(read_at=NOW)
    newer = Message.objects.create(sender=doctor, receiver=verified, text="Again")
    Message.objects.filter(pk=newer.pk).update(timestamp=NOW)
    assert send_due_reminders(NOW + timedelta(hours=2)) == 1


def test_unread_chat_email_can_be_turned_off(verified, doctor):
    services.save_preferences(user=verified, chat_email=False)
    message = Message.objects.create(sender=doctor, receiver=verified, text="Hi")
    Message.objects.filter(pk=message.pk).update(timestamp=NOW - timedelta(days=1))
    assert send_due_reminders(NOW) == 0


def test_a_failed_delivery_is_retried_next_run(verified, monkeypatch):
    remind_daily(verified)

    def broken(self, notice):
        raise ConnectionError("mail server down")

    monkeypatch.setattr(EmailChannel, "deliver", broken)
    assert send_due_reminders(NOW) == 0
    assert not ReminderSent.objects.exists()
    monkeypatch.undo()
    assert send_due_reminders(NOW + timedelta(minutes=5)) == 1


def test_an_existing_claim_is_never_sent_again(verified):
    remind_daily(verified)
    ReminderSent.objects.create(user=verified, kind="daily", key="2026-03-04")
    assert send_due_reminders(NOW) == 0
    assert mail.outbox == []


def test_old_claims_are_cleaned_up(verified):
    ReminderSent.objects.create(
        user=verified, kind="daily", key="2025-01-01", sent_at=NOW - timedelta(days=90)
    )
    send_due_reminders(NOW)
    assert not ReminderSent.objects.filter(key="2025-01-01").exists()


def test_email_channel_needs_a_verified_address(patient):
    notice = Notice(patient, "S", "T", "http://x/")
    assert deliver(notice) is False
    assert mail.outbox == []
