"""How a reminder reaches a person, apart from when it is due (clinical.reminders decides).

A channel takes a Notice and delivers it: Web Push (pwa/push.py) where the person subscribed a
browser, else email; the scheduling does not change. A Notice never carries health details:
only a subject, a line of text and a link to the app behind sign-in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.core import mail

from accounts.models import User
from pwa.push import PushChannel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    user: User
    subject: str
    text: str
    link: str


class Channel(Protocol):
    name: str

    def deliver(self, notice: Notice) -> bool:
        """Send one notice; False (or an exception) means it did not go out."""
        ...


class EmailChannel:
    name = "email"

    def deliver(self, notice: Notice) -> bool:
        body = (
            f"Hello {notice.user.display_name()},\n\n{notice.text}\n{notice.link}\n\n"
            "You can change these emails on the Medications page of Painmap.\n"
        )
        message = mail.EmailMessage(notice.subject, body, to=[notice.user.email])
        return bool(message.send())


def channels_for(user: User) -> list[Channel]:
    """The channels a user is reached on, first tried first: push to the browsers they
    subscribed (when the server has VAPID keys), then email, which needs a verified address."""
    channels: list[Channel] = [PushChannel()] if PushChannel.reaches(user) else []
    if user.email and user.email_verified:
        channels.append(EmailChannel())
    return channels


def deliver(notice: Notice) -> bool:
    """Deliver on the user's first channel that works; True when one did."""
    for channel in channels_for(notice.user):
        try:
            if channel.deliver(notice):
                return True
        except Exception:  # a mail server down must not stop the other reminders
            logger.exception(
                "Could not deliver a %s notice to user %s", channel.name, notice.user.pk
            )
    return False
