"""Messaging tests talk between a patient and their doctor: an active care link joins them.

Who may talk to whom is accounts.access's business (tested there and in the authorization
matrix); here the pair is simply allowed, and the tests that need a stranger make one.
"""

from __future__ import annotations

import pytest

from accounts import services as accounts
from conftest import make_user


def link(patient, doctor) -> None:
    """An active care link between the two, so that they may message each other."""
    request = accounts.request_link(patient=patient, doctor=doctor)
    accounts.change_link(link=request, by=doctor, status="active")


@pytest.fixture
def doctor(patient):
    linked = make_user("drwho", role="doctor")
    link(patient, linked)
    return linked


def history(sender, receiver, text: str = "hi"):
    """A message already in the database, as if sent earlier (whatever links exist today):
    for tests about reading, listing and deleting conversations, not about sending."""
    from messaging.models import Message

    return Message.objects.create(sender=sender, receiver=receiver, text=text)
