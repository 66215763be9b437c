"""Query counts of the signed-in pages, pinned: each page's exact count (so that a change shows
up here), at most PAGE_BUDGET for every page, and the same with one row of everything or many
(nothing queried per row).

A signed-in page starts with one query: the user with their roles and the header's badge counts
(accounts.middleware.AuthenticationMiddleware, accounts/badges.py); the session comes from the
cache (core/sessions.py). A doctor's read of a patient's data also checks the care link and
writes the access log (one INSERT: every read of a patient's data is recorded).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from clinical import services as clinical
from clinical.models import CheckIn, DoseTaken, Medication
from conftest import make_user, page_queries
from diary.models import BodyPart, Note, PainEntry
from messaging.models import Message
from messaging.tests.conftest import link

pytestmark = pytest.mark.django_db

PAGE_BUDGET = 5

PATIENT_PAGES = {
    # the map with the diary's version, the clinical panels' state, the rescue medications
    # (the entry list itself comes from the fragment cache: see test_cold_pages below)
    "/diary/": 4,
    "/diary/notes/": 2,
    # the period's entries (with the hours around it) and notes (one UNION ALL), the doses
    # and check-ins (another)
    "/diary/digest/": 3,
    "/chat/": 3,
    # the peer with what the page says about the pair, the unread ids to mark, the messages
    "/chat/drwho/": 4,
    "/clinical/medications/": 3,
    "/accounts/profile/": 1,
}
DOCTOR_PAGES = {
    "/diary/patients/": 5,
    # the link, the access log, the entries (which also colour the map), the shared notes
    # with the medication panel's rows (one UNION ALL)
    "/diary/patients/alice/": 5,
    # the link, the access log, the entries of the period and the one before with the shared
    # notes written or edited in it, all doses with check-ins: the clinical section and the
    # brief that prints as the report's first page are computed from those rows
    "/diary/patients/alice/digest/": 5,
    "/chat/": 3,
    "/chat/alice/": 4,
    # the link, the access log, the entries of both periods with the shared notes, the doses
    # with the check-ins
    "/clinical/patients/alice/brief/": 5,
}


def add_rows(patient, count: int, doctor=None) -> None:
    """`count` rows of everything a page of the patient's shows: entries, notes, messages with
    the doctor, medications with doses (one awaiting "did it help?") and weekly check-ins."""
    parts, now = list(BodyPart.objects.all()), timezone.now()
    start = PainEntry.objects.filter(owner=patient).count()
    for i in range(start, start + count):
        PainEntry.objects.create(
            owner=patient,
            body_part=parts[i % len(parts)],
            pain_type="burning",
            intensity=i % 11,
            description=f"entry {i}",
            date_recorded=now - timedelta(hours=7 * i),
            factors=["stress"] if i % 2 else [],
        )
        Note.objects.create(owner=patient, title=f"note {i}", body="text", shared=True)
        medication = Medication.objects.create(
            patient=patient, name=f"med {i}", usual_dose=Decimal(1), kind="rescue"
        )
        DoseTaken.objects.create(
            medication=medication, taken_at=now - timedelta(hours=4 + 24 * i), dose=Decimal(1)
        )
        week = clinical.current_week(patient, now) - timedelta(days=7 * (i + 1))
        CheckIn.objects.create(
            patient=patient, week=week, average=i % 11, enjoyment=5, activity=5, score=5
        )
        if doctor is not None:
            Message.objects.create(sender=doctor, receiver=patient, text=f"to you {i}")
            Message.objects.create(sender=patient, receiver=doctor, text=f"to the doctor {i}")


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def linked_doctor(patient):
    # Real names: the chat page shows a real name only to people who know each other.
    doctor = make_user("drwho", role="doctor", first_name="John", last_name="Smith")
    patient.first_name, patient.last_name = "Alice", "Jones"
    patient.save()
    link(patient, doctor)
    make_user("waiting")  # someone else, so that lists are not trivially one row
    return doctor


@pytest.mark.parametrize(("url", "expected"), PATIENT_PAGES.items())
def test_a_patients_pages_are_pinned_whatever_the_rows(patient, linked_doctor, url, expected):
    client = browser(patient)
    add_rows(patient, 1, linked_doctor)
    status, few = page_queries(client, url)
    assert status == 200
    add_rows(patient, 30, linked_doctor)
    status, many = page_queries(client, url)
    assert status == 200
    assert few == many == expected <= PAGE_BUDGET


@pytest.mark.parametrize(("url", "expected"), DOCTOR_PAGES.items())
def test_a_doctors_pages_are_pinned_whatever_the_rows(patient, linked_doctor, url, expected):
    client = browser(linked_doctor)
    add_rows(patient, 1, linked_doctor)
    status, few = page_queries(client, url)
    assert status == 200
    add_rows(patient, 30, linked_doctor)
    other = make_user("bob", first_name="Bob", last_name="Brown")
    link(other, linked_doctor)
    add_rows(other, 5, linked_doctor)
    client.get(url)  # the list's hourly access-log row for bob
    status, many = page_queries(client, url)
    assert status == 200
    assert few == many == expected <= PAGE_BUDGET


def test_the_patient_list_is_constant_in_its_patients(patient, linked_doctor):
    client = browser(linked_doctor)
    add_rows(patient, 3)
    _, one = page_queries(client, "/diary/patients/")
    for name in ("bob", "cy", "dee"):
        other = make_user(name)
        link(other, linked_doctor)
        add_rows(other, 3)
    client.get("/diary/patients/")  # the new patients' hourly access-log rows
    _, four = page_queries(client, "/diary/patients/")
    assert one == four == DOCTOR_PAGES["/diary/patients/"]


def test_after_a_write_the_diary_renders_its_list_within_budget(patient, linked_doctor):
    """A new entry changes the diary's version: the next page reads the rows and renders the
    list (and caches it again), one query more than a cached list, within the budget."""
    from diary import services

    add_rows(patient, 30, linked_doctor)
    client = browser(patient)
    client.get("/diary/")
    services.record_pain(
        owner=patient, body_part=BodyPart.objects.first(), pain_type="burning", intensity=3
    )
    status, count = page_queries(client, "/diary/", warm_up=False)
    assert status == 200
    assert count == PATIENT_PAGES["/diary/"] + 1 <= PAGE_BUDGET


def test_with_nothing_cached_a_page_costs_its_session_query_more(patient, linked_doctor):
    """A cold cache (a restart, an eviction): the session is read from the database once (and
    cached again), and the diary renders its list."""
    add_rows(patient, 30, linked_doctor)
    client = browser(patient)
    for url, warm in PATIENT_PAGES.items():
        client.get(url)
        cache.clear()
        status, cold = page_queries(client, url, warm_up=False)
        assert status == 200
        assert cold == warm + (2 if url == "/diary/" else 1)


def test_a_conversation_with_unread_messages_marks_them_in_two_more(patient, linked_doctor):
    """Marking read is a write (the ids, then one UPDATE); the badge is then the count the page
    loaded less what it marked: no recount."""
    add_rows(patient, 3, linked_doctor)
    client = browser(patient)
    client.get("/chat/drwho/")
    Message.objects.create(sender=linked_doctor, receiver=patient, text="new")
    status, count = page_queries(client, "/chat/drwho/", warm_up=False)
    assert status == 200
    assert count == PATIENT_PAGES["/chat/drwho/"] + 1


def test_more_entries_in_a_week_than_the_list_shows_cost_the_map_one_query(patient, linked_doctor):
    """A doctor's view of the diary colours the map from the listed rows; only a week with more
    entries than the list holds (ENTRY_LIST_LIMIT) needs the map's own query."""
    from diary.views.entries import ENTRY_LIST_LIMIT

    parts, now = list(BodyPart.objects.all()), timezone.now()
    PainEntry.objects.bulk_create(
        PainEntry(
            owner=patient,
            body_part=parts[i % len(parts)],
            pain_type="burning",
            intensity=i % 11,
            date_recorded=now - timedelta(minutes=i),
        )
        for i in range(ENTRY_LIST_LIMIT + 1)
    )
    client = browser(linked_doctor)
    status, count = page_queries(client, "/diary/patients/alice/")
    assert status == 200
    assert count == DOCTOR_PAGES["/diary/patients/alice/"] + 1
