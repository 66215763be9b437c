"""How a reminder reaches a person, apart from when it is due (clinical.reminders decides).

A channel takes a Notice and delivers it: Web Push (pwa/push.py) where the person subscribed a
browser, else email; the scheduling does not change. A Notice never carries health details:
only a subject, a line of text and a link to the app behind sign-in. It is delivered in the
recipient's language (their profile's, else English), whoever's request or run sends it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Protocol

from django.core import mail
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from core.i18n import language_of
from pwa.push import PushChannel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    user: User
    subject: str  # lazy strings (gettext_lazy) until delivered: see `deliver`
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
        hello = gettext("Hello %(name)s,") % {"name": notice.user.display_name()}
        change = gettext("You can change these emails on the Medications page of Painmap.")
        body = f"{hello}\n\n{notice.text}\n{notice.link}\n\n{change}\n"
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
    """Deliver on the user's first channel that works, in their language; True when one did."""
    with translation.override(language_of(notice.user)):
        notice = replace(notice, subject=str(notice.subject), text=str(notice.text))
        return _deliver(notice)


def _deliver(notice: Notice) -> bool:
    for channel in channels_for(notice.user):
        try:
            if channel.deliver(notice):
                return True
        except Exception:  # a mail server down must not stop the other reminders
            logger.exception(
                "Could not deliver a %s notice to user %s", channel.name, notice.user.pk
            )
    return False
