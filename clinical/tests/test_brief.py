"""The doctor's brief: its numbers against hand-computed ones, who may read it, empty states."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from accounts import services as accounts
from accounts.models import DiaryAccess
from clinical import services
from clinical.brief import brief_from_digest, build_brief, previous_period
from clinical.digest import build_clinical_digest, doses_and_checkins
from clinical.models import CheckIn, DoseTaken, week_start
from conftest import PASSWORD, make_user
from diary.digest import SECTION_MARGIN, Period, build_digest
from diary.models import BodyPart, Note, PainEntry

pytestmark = pytest.mark.django_db

UTC_ZONE = zoneinfo.ZoneInfo("UTC")
# 14 days against the 14 before: 15-28 Feb 2026, then 1-14 Mar 2026.
PERIOD = Period(date(2026, 3, 1), date(2026, 3, 14))
QUERY = "?start=2026-03-01&end=2026-03-14"


def at(day: str, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def entry(owner, when, part, intensity, factors=()):
    return PainEntry.objects.create(
        owner=owner,
        body_part=BodyPart.objects.get(name=part),
        pain_type="burning",
        intensity=intensity,
        date_recorded=when,
        factors=list(factors),
    )


def dose(medication, when, relief=None):
    return DoseTaken.objects.create(
        medication=medication, taken_at=when, dose=medication.usual_dose, relief=relief
    )


def checkin(patient, week, a, e, g):
    return CheckIn.objects.create(
        patient=patient,
        week=date.fromisoformat(week),
        average=a,
        enjoyment=e,
        activity=g,
        score=(Decimal(a + e + g) / 3).quantize(Decimal("0.01")),
    )


def note(owner, title, when, shared=True):
    made = Note.objects.create(owner=owner, title=title, body="Why at night?", shared=shared)
    Note.objects.filter(pk=made.pk).update(created_on=when, last_modified=when)
    return made


@pytest.fixture
def history(patient, other_patient, rescue):
    """Two weeks against the two before, with every kind of row, and someone else's rows."""
    # Now (1-14 Mar): left knee 8, 6 (same day), 7 with poor sleep; head 3 (stress), 5.
    entry(patient, at("2026-03-02", 10), "knee-left", 8, ["poor sleep"])
    entry(patient, at("2026-03-02", 18), "knee-left", 6, ["poor sleep"])
    entry(patient, at("2026-03-10"), "knee-left", 7, ["poor sleep"])
    entry(patient, at("2026-03-05"), "head", 3, ["stress"])
    entry(patient, at("2026-03-12"), "head", 5)
    # Before (15-28 Feb): left knee 4, 5; head 4; lower back 7.
    entry(patient, at("2026-02-20"), "knee-left", 4)
    entry(patient, at("2026-02-22"), "knee-left", 5)
    entry(patient, at("2026-02-16"), "head", 4)
    entry(patient, at("2026-02-18"), "loin", 7)
    # Outside both periods: counts nowhere.
    entry(patient, at("2026-02-01"), "knee-left", 10, ["poor sleep"])
    entry(patient, at("2026-03-15", 1), "knee-left", 10)
    # Ibuprofen (rescue): 3 doses now (relief 7, 5, no answer), 1 before.
    dose(rescue, at("2026-03-02", 11), relief=7)
    dose(rescue, at("2026-03-10", 13), relief=5)
    dose(rescue, at("2026-03-11"))
    dose(rescue, at("2026-02-20", 13), relief=2)
    preventive = services.add_medication(
        patient=patient, name="Amitriptyline", usual_dose=Decimal(10), kind="preventive"
    )
    dose(preventive, at("2026-03-03", 21))
    dose(preventive, at("2026-03-04", 21))
    # PEG: 4.00 (2 Feb), 4.33 (16 Feb), 5.67 (2 Mar, +1.34), 5.33 (9 Mar).
    checkin(patient, "2026-02-02", 4, 4, 4)
    checkin(patient, "2026-02-16", 4, 5, 4)
    checkin(patient, "2026-03-02", 6, 6, 5)
    checkin(patient, "2026-03-09", 5, 6, 5)
    note(patient, "Questions for my visit", at("2026-03-13"))
    note(patient, "Private worry", at("2026-03-13"), shared=False)
    note(patient, "Old shared question", at("2026-02-20"))
    # Bob's rows in the same days must not count.
    entry(other_patient, at("2026-03-03"), "knee-left", 10, ["poor sleep"])
    theirs = services.add_medication(patient=other_patient, name="Secretol", usual_dose=Decimal(5))
    dose(theirs, at("2026-03-03"), relief=10)
    checkin(other_patient, "2026-03-09", 10, 10, 10)
    note(other_patient, "Bob's question", at("2026-03-13"))
    return patient


def test_previous_period_is_as_long_and_ends_the_day_before():
    assert previous_period(PERIOD) == Period(date(2026, 2, 15), date(2026, 2, 28))
    assert previous_period(Period(date(2026, 3, 1), date(2026, 3, 1))).start == date(2026, 2, 28)


def test_the_numbers_by_hand(history):
    brief = build_brief(patient=history, period=PERIOD, tz=UTC_ZONE)
    assert not brief.is_empty

    # 5 entries on 4 days, mean 29/5 = 5.8; before 4 on 4 days, mean 20/4 = 5.0.
    assert (brief.now.entries, brief.now.days_with_entries, brief.now.mean) == (5, 4, 5.8)
    assert (brief.then.entries, brief.then.days_with_entries, brief.then.mean) == (4, 4, 5.0)
    assert (brief.now.peak, brief.then.peak) == (8, 7)

    # Left knee: (8+6+7)/3 = 7.0 against (4+5)/2 = 4.5, +2.5 worse; head 4.0 against 4.0.
    knee, head = brief.regions
    assert (knee.body_part.name, knee.count, knee.mean, knee.max) == ("knee-left", 3, 7.0, 8)
    assert (knee.mean_before, knee.count_before, knee.change, knee.direction) == (
        4.5,
        2,
        2.5,
        "worse",
    )
    assert (head.mean, head.mean_before, head.change, head.direction) == (
        4.0,
        4.0,
        0.0,
        "about the same",
    )
    # The lower back hurt only before: not among this period's regions, but on the old map.
    assert [row.body_part.name for row in brief.regions] == ["knee-left", "head"]
    levels_now = {r.name: r.level for v in brief.map_now for r in v["view"].regions}
    levels_before = {r.name: r.level for v in brief.map_before for r in v["view"].regions}
    assert (levels_now["knee-left"], levels_now["head"], levels_now["loin"]) == (7, 4, None)
    assert (levels_before["knee-left"], levels_before["loin"]) == (4, 7)  # round(4.5) = 4
    front = next(v for v in brief.map_now if v["view"].name == "front")
    assert front["summary"] == "left knee 7, top of the head 4"

    # Worst days: 2 Mar (8, mean 7.0, 2 entries), 10 Mar (7), 12 Mar (5).
    assert [(d.date.day, d.max, d.mean, d.count) for d in brief.worst_days] == [
        (2, 8, 7.0, 2),
        (10, 7, 7.0, 1),
        (12, 5, 5.0, 1),
    ]

    # Poor sleep on 3 entries (8, 6, 7: 7.0) on 2 days, without it 3 and 5: 4.0. Stress (1
    # entry) is below the 3-entry floor.
    [factor] = brief.factors
    assert (factor.factor, factor.entries, factor.days) == ("poor sleep", 3, 2)
    assert (factor.mean_with, factor.mean_without) == (7.0, 4.0)

    # Rescue: 3 doses in 14 days = 1.5 a week; before 1 = 0.5 a week. Preventive doses are
    # not rescue doses, but their (absent) relief is listed.
    assert (brief.now.rescue_doses, brief.now.rescue_per_week) == (3, 1.5)
    assert (brief.then.rescue_doses, brief.then.rescue_per_week) == (1, 0.5)
    assert [(r.name, r.doses, r.answers, r.mean) for r in brief.relief] == [
        ("Ibuprofen", 3, 2, 6.0),  # (7 + 5) / 2
        ("Amitriptyline", 2, 0, None),
    ]

    # PEG from the week of 9 Feb (the earlier period's first week) on; 2 Feb only gives the
    # first change. 16 Feb 4.33 (+0.33); 2 Mar 5.67 (+1.34, a rise of 1+); 9 Mar 5.33 (-0.34).
    assert [(p.week.day, p.score, p.change, p.rose) for p in brief.pegs] == [
        (16, Decimal("4.33"), Decimal("0.33"), False),
        (2, Decimal("5.67"), Decimal("1.34"), True),
        (9, Decimal("5.33"), Decimal("-0.34"), False),
    ]
    assert brief.peg_latest.score == Decimal("5.33")
    assert brief.peg_before.score == Decimal("4.33")
    assert brief.peg_rose

    # Only the note shared AND written in the period.
    assert [n.title for n in brief.notes] == ["Questions for my visit"]
    assert brief.changes == [
        "5 entries on 4 days (before: 4 on 4).",
        "Mean pain 5.8, before 5.0 (up +0.8).",
        "Worse: left knee.",
        "Rescue doses 1.5 a week (before 0.5).",
    ]


def test_a_steady_peg_is_not_flagged(patient):
    checkin(patient, "2026-02-16", 5, 5, 5)
    checkin(patient, "2026-03-09", 5, 6, 6)  # 5.67: up 0.67
    brief = build_brief(patient=patient, period=PERIOD, tz=UTC_ZONE)
    assert [p.rose for p in brief.pegs] == [False, False]
    assert not brief.peg_rose


def test_days_are_the_patients_days(patient):
    # 23:30 UTC on 1 Mar is 08:30 on 2 Mar in Tokyo; 20:00 UTC on 28 Feb is 05:00 on 1 Mar.
    entry(patient, at("2026-03-01", 23, 30), "head", 6)
    entry(patient, at("2026-02-28", 20), "head", 2)
    tokyo = build_brief(patient=patient, period=PERIOD, tz=zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert [d.date for d in tokyo.worst_days] == [date(2026, 3, 2), date(2026, 3, 1)]
    assert (tokyo.now.entries, tokyo.then.entries) == (2, 0)
    utc = build_brief(patient=patient, period=PERIOD, tz=UTC_ZONE)
    assert (utc.now.entries, utc.then.entries) == (1, 1)


def test_an_empty_brief(patient):
    brief = build_brief(patient=patient, period=PERIOD, tz=UTC_ZONE)
    assert brief.is_empty
    assert not brief.has_entries
    assert brief.changes == []
    assert (brief.regions, brief.pegs, brief.relief, brief.factors) == ([], [], [], [])
    assert (brief.notes, brief.worst_days) == ([], [])
    assert brief.now.rescue_per_week == 0.0
    assert brief.peg_latest is None
    assert not brief.peg_rose


# --- the page -----------------------------------------------------------------------------------


def url(username: str) -> str:
    return f"/clinical/patients/{username}/brief/"


def signed_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_the_linked_doctor_reads_the_brief_and_the_read_is_logged(client, history, linked_doctor):
    response = signed_in(client, linked_doctor).get(url(history.username) + QUERY)
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "1–14 Mar 2026",
        "15–28 Feb 2026",
        "Mean pain 5.8, before 5.0 (up +0.8).",
        "Left knee",
        "▲ worse +2.5",
        "PEG up 1+ point",
        "1.5 a week</strong> (3 in 14 days); before: 0.5 a week (1)",
        "relief <strong>6.0/10</strong>",
        "Poor sleep</span>: with 7.0, without 4.0",
        "Questions for my visit",
        "Mon 2 Mar",
        'id="zone-note"',
    ):
        assert text in page, text
    for secret in ("Private worry", "Bob&#x27;s question", "Secretol", "Old shared question"):
        assert secret not in page
    log = DiaryAccess.objects.get(viewer=linked_doctor, patient=history)
    assert log.what == "brief"


def test_times_are_in_the_patients_zone(client, patient, linked_doctor):
    patient.timezone = "Asia/Tokyo"
    patient.save()
    entry(patient, at("2026-03-01", 23, 30), "head", 6)
    note(patient, "Night question", at("2026-03-01", 23, 30))
    page = signed_in(client, linked_doctor).get(url(patient.username) + QUERY).content.decode()
    assert "Mon 2 Mar" in page  # the worst day, in Tokyo
    assert "2 Mar, 08:30" in page  # the note's time, in Tokyo
    assert "Asia/Tokyo" in page
    # The zone note says what time it is for the patient now (it read "their time now: ." once).
    # date_format formats the moment as given (UTC): it must be turned into Tokyo's time first,
    # or this failed every day from 15:00 UTC, when Tokyo's date is already the next one.
    their_now = date_format(timezone.localtime(timezone=zoneinfo.ZoneInfo("Asia/Tokyo")), "D j M, ")
    assert f"(their time now: <strong>{their_now}" in page


@pytest.mark.parametrize("who", ["patient", "unlinked doctor", "anyone else", "pending doctor"])
def test_nobody_else_reads_a_brief(client, history, who):
    reader = {
        "patient": history,  # the patient themself: a doctor's page, not theirs
        "unlinked doctor": make_user("drno", role="doctor"),
        "anyone else": make_user("carol"),
        "pending doctor": make_user("drwait", role="doctor"),
    }[who]
    if who == "pending doctor":
        accounts.request_link(patient=history, doctor=reader)
    response = signed_in(client, reader).get(url(history.username))
    assert response.status_code == 404
    assert "Left knee" not in response.content.decode()
    assert not DiaryAccess.objects.exists()


def test_a_doctor_reads_only_their_own_patients_brief(
    client, history, linked_doctor, other_patient
):
    client = signed_in(client, linked_doctor)
    assert client.get(url(other_patient.username)).status_code == 404
    assert client.get(url("nobody-at-all")).status_code == 404
    assert client.get(url(linked_doctor.username)).status_code == 404
    assert not DiaryAccess.objects.exists()


def test_signed_out_goes_to_sign_in(client, history):
    response = client.get(url(history.username))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_nothing_at_all_is_said_once(client, patient, linked_doctor):
    response = signed_in(client, linked_doctor).get(url(patient.username))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="brief-empty"' in page
    # The default period: the last 30 days against the 30 before.
    assert "or in the 30 days before" in page
    assert 'id="brief-regions"' not in page
    assert 'id="brief-map-empty"' not in page


def test_each_section_says_when_it_has_nothing(client, patient, linked_doctor):
    # Only a check-in: every other section has its own empty state.
    checkin(patient, "2026-03-09", 3, 3, 3)
    page = signed_in(client, linked_doctor).get(url(patient.username) + QUERY).content.decode()
    assert 'id="brief-empty"' not in page
    for empty in (
        "brief-changes-empty",
        "brief-map-empty",
        "brief-regions-empty",
        "brief-relief-empty",
        "brief-factors-empty",
        "brief-worst-empty",
        "brief-notes-empty",
    ):
        assert f'id="{empty}"' in page, empty
    assert 'id="brief-peg-empty"' not in page
    assert "Latest <strong>3.0</strong>" in page
    assert "0.0 a week</strong> (0 in 14 days)" in page


@pytest.mark.parametrize(
    "query", ["?days=0", "?days=abc", "?start=2026-03-10&end=2026-03-01", "?start=2026-03-01"]
)
def test_a_bad_period_is_a_400_with_the_reason(client, patient, linked_doctor, query):
    response = signed_in(client, linked_doctor).get(url(patient.username) + query)
    assert response.status_code == 400
    assert 'id="period-error"' in response.content.decode()


def test_the_doctors_pages_link_the_brief(client, patient, linked_doctor):
    client = signed_in(client, linked_doctor)
    target = url(patient.username)
    assert target in client.get("/diary/patients/").content.decode()
    assert target in client.get(f"/diary/patients/{patient.username}/").content.decode()
    digest = client.get(f"/diary/patients/{patient.username}/digest/?days=7").content.decode()
    assert f"{target}?days=7" in digest


def test_the_printed_digest_starts_with_the_brief(client, history, linked_doctor):
    page = (
        signed_in(client, linked_doctor)
        .get(f"/diary/patients/{history.username}/digest/{QUERY}")
        .content.decode()
    )
    # First in the page, before the digest's own heading: print CSS shows it on paper only,
    # then breaks the page.
    assert 'class="brief-print"' in page
    assert page.index('class="brief-print"') < page.index('id="digest-heading"')
    assert "Mean pain 5.8, before 5.0 (up +0.8)." in page


def test_a_patients_own_digest_has_no_brief(client, history):
    page = signed_in(client, history).get(f"/diary/digest/{QUERY}").content.decode()
    assert "brief-print" not in page


# --- the printed brief, from the digest page's rows ---------------------------------------------


def doctors_digest(patient):
    """The digest as a doctor's digest page reads it: the period before too, shared notes."""
    return build_digest(
        patient=patient,
        period=PERIOD,
        notes=patient.notes.filter(shared=True),
        tz=UTC_ZONE,
        margin=SECTION_MARGIN,
        since=PERIOD.previous.start,
    )


@pytest.fixture
def edges(history, rescue):
    """Rows at the edges of what the digest and the brief read differently: a shared note
    written before the period and edited in it (the brief lists it, the digest does not), one
    written in the period and edited after it (the digest lists it, the brief does not), a
    check-in nine weeks before the period (only the brief's window reaches it) and a dose
    at the very start of the period before."""
    edited = note(history, "Kept list of questions", at("2026-02-10"))
    Note.objects.filter(pk=edited.pk).update(last_modified=at("2026-03-12"))
    later = note(history, "Written in, edited after", at("2026-03-04"))
    Note.objects.filter(pk=later.pk).update(last_modified=at("2026-03-20"))
    checkin(history, "2026-01-05", 2, 2, 2)
    dose(rescue, at("2026-02-15", 0), relief=4)
    return history


def test_the_printed_brief_is_the_briefs_own_without_a_query(edges, django_assert_num_queries):
    digest = doctors_digest(edges)
    start = datetime.combine(PERIOD.previous.start, time.min, tzinfo=UTC_ZONE)
    end = datetime.combine(date(2026, 3, 15), time.min, tzinfo=UTC_ZONE)
    doses, checkins = doses_and_checkins(
        edges, start, end, week_start(PERIOD.previous.start), PERIOD.end, rescue_only=False
    )
    with django_assert_num_queries(0):
        printed = brief_from_digest(digest, doses, checkins, UTC_ZONE)
    own = build_brief(patient=edges, period=PERIOD, tz=UTC_ZONE)
    assert printed == own
    assert [n.title for n in own.notes] == ["Questions for my visit", "Kept list of questions"]
    assert [n.title for n in digest.notes] == ["Written in, edited after", "Questions for my visit"]
    assert own.then.rescue_doses == 2
    # The digest's own numbers did not change by reading the period before.
    narrow = build_digest(
        patient=edges,
        period=PERIOD,
        notes=edges.notes.filter(shared=True),
        tz=UTC_ZONE,
        margin=SECTION_MARGIN,
    )
    assert (digest.as_json(), digest.readings, digest.notes) == (
        narrow.as_json(),
        narrow.readings,
        narrow.notes,
    )
    # Nor did the clinical section's, from the longer rows (the early check-in is not its).
    assert build_clinical_digest(
        patient=edges, period=PERIOD, tz=UTC_ZONE, readings=digest.readings, rows=(doses, checkins)
    ) == build_clinical_digest(patient=edges, period=PERIOD, tz=UTC_ZONE)


def test_a_digest_without_the_period_before_gets_the_briefs_own_queries(edges):
    digest = build_digest(patient=edges, period=PERIOD, notes=edges.notes.filter(shared=True))
    assert digest.since is None
    assert brief_from_digest(digest, [], [], UTC_ZONE) == build_brief(
        patient=edges, period=PERIOD, tz=UTC_ZONE
    )


def test_the_printed_digest_carries_the_briefs_numbers(client, edges, linked_doctor):
    page = (
        signed_in(client, linked_doctor)
        .get(f"/diary/patients/{edges.username}/digest/{QUERY}")
        .content.decode()
    )
    printed = page[page.index('class="brief-print"') : page.index('id="digest-heading"')]
    for text in (
        "Mean pain 5.8, before 5.0 (up +0.8).",
        "Rescue doses 1.5 a week (before 1.0).",
        "Kept list of questions",
        "Questions for my visit",
    ):
        assert text in printed, text
    assert "Written in, edited after" not in printed
    assert "Private worry" not in page
