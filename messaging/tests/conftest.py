"""Messaging tests talk between a patient and their doctor: an active care link joins them.

Who may talk to whom is accounts.access's business (tested there and in the authorization
matrix); here the pair is simply allowed, and the tests that need a stranger make one.
"""

from __future__ import annotations

import pytest
from django.db import connection

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


def _run(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.fixture
def refuse_boom(transactional_db):
    """A trigger that makes the database itself refuse a message whose text is 'boom': a real
    DatabaseError for one row of a batch, on SQLite or PostgreSQL."""
    if connection.vendor == "sqlite":
        _run(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON messaging_message "
            "WHEN NEW.text = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        yield
        _run("DROP TRIGGER refuse_boom")
        return
    _run(
        "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN "
        "IF NEW.text = 'boom' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; "
        "END $$ LANGUAGE plpgsql"
    )
    _run(
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON messaging_message "
        "FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
    )
    yield
    _run("DROP TRIGGER refuse_boom ON messaging_message")
    _run("DROP FUNCTION refuse_boom()")
