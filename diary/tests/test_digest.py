"""Digest numbers against hand-computed expectations on fixed data (patient in Paris, UTC+1)."""

from __future__ import annotations

import json
import zoneinfo
from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import token_client
from diary import services
from diary.digest import Period, PeriodError, build_digest, parse_period
from diary.models import BodyPart, PainEntry

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
JANUARY = Period(date(2026, 1, 1), date(2026, 1, 10))  # the second half starts on 6 January


def at(day: int, hour: int, minute: int = 0, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def add(patient, part: str, when: datetime, intensity: int, pain_type: str = "burning"):
    # Straight to the table: these dates lie in the past relative to the fixed period only.
    return PainEntry.objects.create(
        owner=patient,
        body_part=BodyPart.objects.get(name=part),
        pain_type=pain_type,
        intensity=intensity,
        date_recorded=when,
    )


@pytest.fixture
def paris_patient(patient):
    patient.timezone = "Europe/Paris"
    patient.save()
    add(patient, "knee-left", at(2, 10), 4, "burning")
    add(patient, "knee-left", at(3, 23, 30), 6, "stabbing")  # 22:30 UTC: still the 3rd in Paris
    add(patient, "knee-left", at(7, 9), 8, "burning")
    add(patient, "knee-left", at(9, 0, 30), 9, "throbbing")  # 23:30 UTC on the 8th: the 9th here
    add(patient, "head", at(8, 12), 3, "cutting")
    add(patient, "head", at(31, 23, 59, month=12, year=2025), 10)  # the day before: left out
    add(patient, "head", at(11, 0, 10), 10)  # 23:10 UTC on the 10th, but the 11th in Paris
    return patient


def test_digest_numbers(paris_patient):
    digest = build_digest(patient=paris_patient, period=JANUARY)
    assert digest.entries == 5
    knee, head = digest.body_parts
    assert (knee.body_part.name, knee.count, knee.mean, knee.max, knee.latest) == (
        "knee-left",
        4,
        6.8,  # (4 + 6 + 8 + 9) / 4 = 6.75
        9,
        9,
    )
    assert knee.trend == 3.5  # (8 + 9) / 2 - (4 + 6) / 2
    assert knee.direction == "rising"
    assert (head.body_part.name, head.count, head.mean, head.max, head.latest) == (
        "head",
        1,
        3.0,
        3,
        3,
    )
    assert head.trend is None  # only the second half has entries
    assert digest.pain_types == {"burning": 2, "stabbing": 1, "cutting": 1, "throbbing": 1}
    assert digest.days_with_entries == 5
    days = {day.date.day: (day.count, day.max, day.mean) for day in digest.timeline}
    assert len(days) == 10
    assert days[2] == (1, 4, 4.0)
    assert days[3] == (1, 6, 6.0)
    assert days[8] == (1, 3, 3.0)
    assert days[9] == (1, 9, 9.0)
    assert days[4] == (0, None, None)
    assert [day.date.day for day in digest.worst_days] == [9, 7, 3]
    assert digest.summary == (
        "Most pain: left knee, mean 6.8, rising. 5 entries on 5 of 10 days, highest 9/10. "
        "Mostly burning pain."
    )


def test_same_day_mean_and_max(patient):
    add(patient, "belly", timezone.make_aware(datetime(2026, 1, 5, 8)), 2)
    add(patient, "belly", timezone.make_aware(datetime(2026, 1, 5, 20)), 7)
    digest = build_digest(patient=patient, period=JANUARY)
    (day,) = [day for day in digest.timeline if day.count]
    assert (day.count, day.max, day.mean) == (2, 7, 4.5)


def test_empty_period(patient):
    digest = build_digest(patient=patient, period=Period(date(2026, 3, 1), date(2026, 3, 7)))
    assert digest.entries == 0
    assert digest.body_parts == []
    assert digest.worst_days == []
    assert digest.pain_types == {"burning": 0, "stabbing": 0, "cutting": 0, "throbbing": 0}
    assert digest.summary == "No pain recorded in these 7 days."
    assert [day.count for day in digest.timeline] == [0] * 7


def test_single_entry(patient):
    add(patient, "nape", timezone.make_aware(datetime(2026, 1, 2, 12)), 5, "throbbing")
    digest = build_digest(patient=patient, period=JANUARY)
    (part,) = digest.body_parts
    assert (part.count, part.mean, part.max, part.latest, part.trend) == (1, 5.0, 5, 5, None)
    # One entry says nothing about change: no "steady" (issue #11, bug 4); the API keeps null.
    assert part.direction == "no trend yet"
    assert digest.summary.startswith(
        "Most pain: back of the neck, mean 5.0, no trend yet. 1 entry on"
    )
    assert digest.as_json()["body_parts"][0]["trend"] is None


def test_queries_do_not_grow_with_entries(paris_patient):
    with CaptureQueriesContext(connection) as few:
        build_digest(patient=paris_patient, period=JANUARY, notes=paris_patient.notes.all())
    for hour in range(20):
        add(paris_patient, "loin", at(4, hour), hour % 11)
    with CaptureQueriesContext(connection) as many:
        digest = build_digest(
            patient=paris_patient, period=JANUARY, notes=paris_patient.notes.all()
        )
    assert digest.entries == 25
    assert len(many) == len(few) <= 3


def test_notes_of_the_period(patient):
    inside = services.create_note(owner=patient, title="In")
    outside = services.create_note(owner=patient, title="Out")
    type(outside).objects.filter(pk=outside.pk).update(created_on=timezone.now().replace(year=2020))
    today = timezone.now().date()
    digest = build_digest(patient=patient, period=Period(today, today), notes=patient.notes.all())
    assert [note.pk for note in digest.notes] == [inside.pk]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, Period(date(2026, 1, 11), date(2026, 2, 9))),
        ({"days": "7"}, Period(date(2026, 2, 3), date(2026, 2, 9))),
        ({"start": "2026-01-01", "end": "2026-01-10"}, JANUARY),
    ],
)
def test_parse_period(params, expected):
    assert parse_period(params, today=date(2026, 2, 9)) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"days": "0"},
        {"days": ""},
        {"start": "", "end": ""},
        {"start": "2026-01-01", "end": ""},
        {"days": "-3"},
        {"days": "abc"},
        {"days": "367"},
        {"days": "7", "start": "2026-01-01"},
        {"start": "2026-01-01"},
        {"start": "2026-13-01", "end": "2026-01-02"},
        {"start": "2026-01-10", "end": "2026-01-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
    ],
)
def test_parse_period_errors(params):
    with pytest.raises(PeriodError):
        parse_period(params, today=date(2026, 2, 9))


# API ------------------------------------------------------------------------------------------

DIGEST = "/api/diary/digest/"


def test_api_digest(paris_patient):
    response = token_client(paris_patient).get(DIGEST, {"start": "2026-01-01", "end": "2026-01-10"})
    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"], body["entries"]) == ("2026-01-01", "2026-01-10", 5)
    assert body["body_parts"][0] == {
        "body_part": 21,
        "name": "knee-left",
        "label": "Left knee",
        "count": 4,
        "mean": 6.8,
        "max": 9,
        "latest": 9,
        "trend": 3.5,
    }
    assert body["pain_types"]["burning"] == 2
    assert body["timeline"][8] == {"date": "2026-01-09", "count": 1, "max": 9, "mean": 9.0}
    assert body["summary"].startswith("Most pain: left knee")


def test_api_digest_default_is_30_days(patient):
    body = token_client(patient).get(DIGEST).json()
    assert body["days"] == 30
    assert len(body["timeline"]) == 30


@pytest.mark.parametrize("query", ["days=0", "days=x", "start=2026-01-01", "start=1&end=2"])
def test_api_digest_bad_parameters(patient, query):
    response = token_client(patient).get(f"{DIGEST}?{query}")
    assert response.status_code == 400
    assert "error" in response.json()


def test_api_digest_for_a_linked_doctor_only(paris_patient, doctor, other_patient):
    from accounts import services as accounts
    from accounts.models import DiaryAccess

    assert token_client(doctor).get(DIGEST, {"patient": "alice"}).status_code == 404
    assert token_client(other_patient).get(DIGEST, {"patient": "alice"}).status_code == 404
    link = accounts.request_link(patient=paris_patient, doctor=doctor)
    accounts.change_link(link=link, by=doctor, status="active")
    response = token_client(doctor).get(
        DIGEST, {"patient": "alice", "start": "2026-01-01", "end": "2026-01-10"}
    )
    assert response.status_code == 200
    assert response.json()["entries"] == 5
    assert DiaryAccess.objects.filter(viewer=doctor, patient=paris_patient).count() == 1


def test_the_schema_says_what_a_null_trend_means(client):
    """The API keeps trend null for a single entry (issue #11, bug 4); the schema says why."""
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    trend = schema["components"]["schemas"]["DigestPart"]["properties"]["trend"]
    assert trend["nullable"] is True
    assert "no trend yet" in trend["description"]
