"""Which reminders are due now, and sending each once (`manage.py send_reminders`, for cron).

Why a cron command and not Django's task framework: the reminders depend on the clock, not on
an event, so something has to wake up periodically anyway, and a command run every few minutes
needs no worker process and keeps nothing in memory: a restart or a missed run loses nothing
(the next run sends what is still due). Each reminder is claimed by inserting a ReminderSent
row (unique per user, kind and occasion) before it is sent, so two overlapping runs never send
it twice; a failed delivery gives its claim back for the next run. A notice's words are lazy:
delivery renders them in the recipient's language (clinical.delivery).

- daily: at or after the patient's chosen time, in their zone, when nothing was recorded that
  day (their day).
- checkin: at or after that time on their check-in day (or later that week) while this week's
  PEG check-in is not done.
- unread: chat messages unread for UNREAD_EMAIL_AFTER: one email per conversation until the
  user reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clinical.delivery import Notice, deliver
from clinical.models import CheckIn, Preferences, ReminderSent, week_start
from diary.digest import user_timezone
from diary.models import PainEntry
from messaging.models import Message

# Claims older than this are deleted: every occasion they guard is long past.
KEEP_CLAIMS = timedelta(days=60)


def _link(name: str) -> str:
    return f"{settings.SITE_URL}{reverse(name)}"


def _people() -> Iterator[Preferences]:
    return (
        Preferences.objects.filter(user__is_active=True, user__deleted_at__isnull=True)
        .filter(user__email_verified_at__isnull=False)
        .select_related("user")
        .iterator()
    )


def due_diary_reminders(now: datetime) -> Iterator[tuple[str, str, Notice]]:
    """(kind, key, notice) of every daily and check-in reminder due at `now`."""
    for preferences in _people():
        user = preferences.user
        if not (preferences.daily_reminder or preferences.checkin_reminder):
            continue
        tz = user_timezone(user)
        local = now.astimezone(tz)
        if local.time() < preferences.daily_reminder_time:
            continue
        today = local.date()
        if preferences.daily_reminder:
            day_start = datetime.combine(today, time.min, tzinfo=tz)
            recorded = PainEntry.objects.for_user(user).filter(
                date_recorded__gte=day_start, date_recorded__lt=day_start + timedelta(days=1)
            )
            if not recorded.exists():
                yield (
                    ReminderSent.Kind.DAILY,
                    today.isoformat(),
                    Notice(
                        user,
                        _("Your Painmap diary"),
                        _("A reminder you asked for: record how today went."),
                        _link("diary:diary"),
                    ),
                )
        week = week_start(today)
        if (
            preferences.checkin_reminder
            and today.weekday() >= preferences.checkin_weekday
            and not CheckIn.objects.filter(patient=user, week=week).exists()
        ):
            yield (
                ReminderSent.Kind.CHECKIN,
                week.isoformat(),
                Notice(
                    user,
                    _("Your weekly Painmap check-in"),
                    _("Your weekly check-in is waiting: three short questions."),
                    _link("diary:diary"),
                ),
            )


def due_unread_emails(now: datetime) -> Iterator[tuple[str, str, Notice]]:
    cutoff = now - timedelta(seconds=settings.UNREAD_EMAIL_AFTER)
    waiting = (
        Message.objects.filter(read_at__isnull=True, timestamp__lte=cutoff)
        .values("receiver_id", "sender_id")
        .annotate(first=Min("id"))
        .order_by("receiver_id", "sender_id")
    )
    receivers = {row["receiver_id"] for row in waiting}
    users = {
        user.pk: user
        for user in User.objects.filter(
            pk__in=receivers, is_active=True, email_verified_at__isnull=False
        )
    }
    opted_out = set(
        Preferences.objects.filter(user__in=receivers, chat_email=False).values_list(
            "user_id", flat=True
        )
    )
    for row in waiting:
        user = users.get(row["receiver_id"])
        if user is None or user.pk in opted_out:
            continue
        yield (
            ReminderSent.Kind.UNREAD,
            f"{row['sender_id']}:{row['first']}",
            Notice(
                user,
                _("Unread messages on Painmap"),
                _("You have unread messages on Painmap."),
                _link("chat-inbox"),
            ),
        )


def _claim(user: User, kind: str, key: str, now: datetime) -> ReminderSent | None:
    try:
        with transaction.atomic():
            return ReminderSent.objects.create(user=user, kind=kind, key=key, sent_at=now)
    except IntegrityError:
        return None  # sent already (by this run's predecessor, or one running beside it)


def send_due_reminders(now: datetime | None = None) -> int:
    """Send every reminder due now that was not sent before; the number sent."""
    now = now or timezone.now()
    sent = 0
    for due in (due_diary_reminders(now), due_unread_emails(now)):
        for kind, key, notice in due:
            claim = _claim(notice.user, kind, key, now)
            if claim is None:
                continue
            if deliver(notice):
                sent += 1
            else:
                claim.delete()
    ReminderSent.objects.filter(sent_at__lt=now - KEEP_CLAIMS).delete()
    return sent
