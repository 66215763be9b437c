from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinical import services
from clinical.digest import around_doses, build_clinical_digest, latest_pegs
from clinical.models import CheckIn, DoseTaken
from conftest import PASSWORD
from diary.digest import Period
from diary.models import BodyPart, PainEntry

pytestmark = pytest.mark.django_db
T = datetime(2026, 3, 4, 12, tzinfo=UTC)  # a Wednesday


def entry(owner, at, intensity):
    return PainEntry.objects.create(
        owner=owner,
        body_part=BodyPart.objects.get(name="head"),
        pain_type="burning",
        intensity=intensity,
        date_recorded=at,
    )


def checkin(patient, week, a, e, g):
    return CheckIn.objects.create(
        patient=patient,
        week=week,
        average=a,
        enjoyment=e,
        activity=g,
        score=(Decimal(a + e + g) / 3).quantize(Decimal("0.01")),
    )


def test_around_doses_by_hand():
    h = timedelta(hours=1)
    entries = [
        (T - 7 * h, 9),  # outside the 6 h: ignored
        (T - 5 * h, 6),
        (T - 1 * h, 8),  # dose 1 before: mean 7
        (T, 5),  # at the dose itself: neither side
        (T + 2 * h, 4),  # dose 1 after: 4
        (T + 30 * h, 3),  # dose 2 before (dose at T+31h): 3 ; nothing after
    ]
    result = around_doses([T, T + 31 * h], entries)
    assert result.doses == 1
    assert result.doses_without == 1
    assert result.before_mean == 7.0
    assert result.after_mean == 4.0
    assert (result.entries_before, result.entries_after) == (2, 1)


def test_each_dose_weighs_the_same():
    h = timedelta(hours=1)
    d2 = T + 24 * h
    entries = [(T - h, 8), (T + h, 2), (T + 2 * h, 2), (T + 3 * h, 2)]
    entries += [(d2 - h, 4), (d2 + h, 6)]
    result = around_doses([T, d2], entries)
    assert result.before_mean == 6.0  # (8 + 4) / 2
    assert result.after_mean == 4.0  # (2 + 6) / 2, not (2+2+2+6)/4 = 3


def test_no_comparison_without_entries_on_both_sides():
    result = around_doses([T], [(T - timedelta(hours=1), 5)])
    assert result.doses == 0
    assert result.before_mean is None


def test_digest_weeks_rescue_doses_and_peg_trend(patient, rescue):
    preventive = services.add_medication(
        patient=patient, name="Amitriptyline", usual_dose=Decimal(10), kind="preventive"
    )
    tz = zoneinfo.ZoneInfo("UTC")
    # The period: Monday 2 March - Sunday 15 March 2026, two ISO weeks.
    period = Period(date(2026, 3, 2), date(2026, 3, 15))
    for at in (T, T + timedelta(days=1), T + timedelta(days=7)):
        DoseTaken.objects.create(medication=rescue, taken_at=at, dose=400)
    DoseTaken.objects.create(medication=rescue, taken_at=T - timedelta(days=10), dose=400)
    DoseTaken.objects.create(medication=preventive, taken_at=T, dose=10)  # not rescue
    DoseTaken.objects.filter(taken_at=T, medication=rescue).update(relief=6, relief_asked=True)
    checkin(patient, date(2026, 2, 23), 3, 3, 3)  # the week before: 3.00
    checkin(patient, date(2026, 3, 2), 4, 5, 3)  # 4.00: +1.00, flagged
    checkin(patient, date(2026, 3, 9), 4, 5, 4)  # 4.33: +0.33
    entry(patient, T - timedelta(hours=2), 8)
    entry(patient, T + timedelta(hours=3), 5)

    digest = build_clinical_digest(patient=patient, period=period, tz=tz)
    assert digest.rescue_doses == 3
    assert [(w.start, w.rescue_doses) for w in digest.weeks] == [
        (date(2026, 3, 2), 2),
        (date(2026, 3, 9), 1),
    ]
    assert [w.peg for w in digest.weeks] == [Decimal("4.00"), Decimal("4.33")]
    assert [w.peg_change for w in digest.weeks] == [Decimal("1.00"), Decimal("0.33")]
    assert [w.peg_rose for w in digest.weeks] == [True, False]
    assert digest.relief_mean == 6.0
    assert digest.relief_answers == 1
    assert digest.around.doses == 1
    assert (digest.around.before_mean, digest.around.after_mean) == (8.0, 5.0)
    assert digest.around.doses_without == 2


def test_digest_weeks_use_the_patients_zone(patient, rescue):
    tz = zoneinfo.ZoneInfo("Pacific/Auckland")
    # Sunday 8 March 20:00 UTC is Monday 9 March in Auckland: the second week.
    DoseTaken.objects.create(
        medication=rescue, taken_at=datetime(2026, 3, 8, 20, tzinfo=UTC), dose=1
    )
    digest = build_clinical_digest(
        patient=patient, period=Period(date(2026, 3, 2), date(2026, 3, 15)), tz=tz
    )
    assert [w.rescue_doses for w in digest.weeks] == [0, 1]


def test_latest_pegs_and_the_rise_flag(patient, other_patient):
    today = date(2026, 3, 10)
    checkin(patient, date(2026, 3, 2), 3, 3, 3)
    checkin(patient, date(2026, 3, 9), 5, 5, 5)
    checkin(other_patient, date(2026, 3, 9), 5, 5, 4)
    checkin(other_patient, date(2025, 6, 2), 1, 1, 1)  # too old to count
    pegs = latest_pegs([patient.pk, other_patient.pk, 999999], today)
    assert pegs[patient.pk].latest == Decimal("5.00")
    assert pegs[patient.pk].change == Decimal("2.00")
    assert pegs[patient.pk].rose
    assert pegs[other_patient.pk].change is None
    assert not pegs[other_patient.pk].rose
    assert pegs[999999].latest is None


def test_digest_page_shows_the_section_to_patient_and_linked_doctor(
    client, patient, linked_doctor, rescue
):
    services.take_dose(medication=rescue)
    services.record_checkin(patient=patient, average=6, enjoyment=6, activity=6)
    client.login(username=patient.username, password=PASSWORD)
    page = client.get("/diary/digest/?days=7").content.decode()
    assert 'id="clinical-digest"' in page
    assert 'id="figure-rescue-doses">1<' in page
    assert "6.0" in page
    client.logout()
    client.login(username=linked_doctor.username, password=PASSWORD)
    page = client.get(f"/diary/patients/{patient.username}/digest/?days=7").content.decode()
    assert 'id="figure-rescue-doses">1<' in page


def test_digest_section_never_shows_another_patients_doses(client, patient, bobs_medication):
    services.take_dose(medication=bobs_medication)
    client.login(username=patient.username, password=PASSWORD)
    page = client.get("/diary/digest/").content.decode()
    assert 'id="clinical-digest-empty"' in page


def test_my_patients_shows_peg_and_sorts_by_it(client, patient, other_patient, linked_doctor):
    from accounts import services as accounts

    link = accounts.request_link(patient=other_patient, doctor=linked_doctor)
    accounts.change_link(link=link, by=linked_doctor, status="active")
    week = services.current_week(patient)
    checkin(patient, week - timedelta(days=7), 2, 2, 2)
    checkin(patient, week, 4, 4, 4)  # up 2: flagged
    checkin(other_patient, week, 8, 8, 8)
    entry(other_patient, timezone.now(), 9)  # other_patient needs attention first by pain
    client.login(username=linked_doctor.username, password=PASSWORD)
    page = client.get("/diary/patients/").content.decode()
    assert page.index('data-patient="bob"') < page.index('data-patient="alice"')
    assert "PEG up 2.0" in page
    page = client.get("/diary/patients/?sort=peg").content.decode()
    assert page.index('data-patient="alice"') < page.index('data-patient="bob"')
