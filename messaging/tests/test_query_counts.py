"""Query counts of the chat pages, pinned and constant in the number of messages and peers."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_user, page_queries
from messaging.tests.conftest import history, link

pytestmark = pytest.mark.django_db

INBOX_BUDGET = 5
# The conversation also marks what it shows read and checks who may send: see issue 13's report.
CONVERSATION_BUDGET = 7


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def chatter(one, other, count: int) -> None:
    for i in range(count):
        history(one, other, f"hello {i}")
        history(other, one, f"hi {i}")


@pytest.mark.parametrize("who", ["patient", "doctor"])
def test_the_inbox_is_constant_in_conversations(patient, doctor, who):
    user = patient if who == "patient" else doctor
    peer = doctor if who == "patient" else patient
    client = browser(user)
    chatter(user, peer, 1)
    status, few = page_queries(client, "/chat/")
    assert status == 200
    for name in ("bob", "cy", "dee"):
        other = make_user(name, role="doctor" if who == "patient" else "patient")
        link(*((user, other) if who == "patient" else (other, user)))
        chatter(user, other, 5)
    status, many = page_queries(client, "/chat/")
    assert status == 200
    assert few == many <= INBOX_BUDGET


@pytest.mark.parametrize("who", ["patient", "doctor"])
def test_a_conversation_is_constant_in_messages(patient, doctor, who):
    user, peer = (patient, doctor) if who == "patient" else (doctor, patient)
    client = browser(user)
    chatter(user, peer, 1)
    url = f"/chat/{peer.username}/"
    status, few = page_queries(client, url)
    assert status == 200
    chatter(user, peer, 40)
    status, many = page_queries(client, url)
    assert status == 200
    assert few == many <= CONVERSATION_BUDGET
