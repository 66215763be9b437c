from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinical import services
from clinical.models import CheckIn, DoseTaken, Medication
from clinical.tests.conftest import record

pytestmark = pytest.mark.django_db


def test_add_medication_strips_and_validates(patient):
    medication = services.add_medication(
        patient=patient, name="  Paracetamol ", usual_dose=Decimal("500"), unit=" mg "
    )
    assert (medication.name, medication.unit, medication.kind) == ("Paracetamol", "mg", "rescue")
    assert medication.active
    with pytest.raises(ValidationError) as error:
        services.add_medication(patient=patient, name="", usual_dose=Decimal("0"))
    assert set(error.value.message_dict) >= {"name", "usual_dose"}
    with pytest.raises(ValidationError):
        services.add_medication(patient=patient, name="X", usual_dose=Decimal(1), kind="daily")
    assert Medication.objects.count() == 1


def test_stop_and_restart_keep_the_history(rescue):
    services.take_dose(medication=rescue)
    services.set_medication_active(medication=rescue, active=False)
    rescue.refresh_from_db()
    assert not rescue.active
    assert rescue.stopped is not None
    assert rescue.doses.count() == 1
    services.set_medication_active(medication=rescue, active=True)
    rescue.refresh_from_db()
    assert rescue.active
    assert rescue.stopped is None


def test_delete_medication_deletes_its_doses(rescue):
    services.take_dose(medication=rescue)
    services.delete_medication(medication=rescue)
    assert DoseTaken.objects.count() == 0


def test_take_dose_defaults_to_now_and_the_usual_dose(rescue):
    before = timezone.now()
    dose = services.take_dose(medication=rescue)
    assert dose.dose == Decimal("400")
    assert before <= dose.taken_at <= timezone.now()
    assert dose.relief is None
    assert not dose.relief_asked


def test_take_dose_refuses_the_future_a_bad_dose_and_bad_relief(rescue):
    with pytest.raises(ValidationError) as error:
        services.take_dose(medication=rescue, taken_at=timezone.now() + timedelta(hours=1))
    assert "taken_at" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.take_dose(medication=rescue, dose=Decimal("-1"))
    with pytest.raises(ValidationError):
        services.take_dose(medication=rescue, relief=11)
    assert DoseTaken.objects.count() == 0


def test_a_dose_links_only_the_patients_own_entry(rescue, other_patient, patient):
    own = record(patient)
    dose = services.take_dose(medication=rescue, entry=own)
    assert dose.entry == own
    with pytest.raises(ValidationError) as error:
        services.take_dose(medication=rescue, entry=record(other_patient))
    assert "entry" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.update_dose(dose=dose, entry=record(other_patient))
    dose.refresh_from_db()
    assert dose.entry == own


def test_relief_answer_or_dismissal_is_asked_once(rescue, settings):
    settings.RELIEF_ASK_AFTER = 3 * 3600
    now = timezone.now()
    old = services.take_dose(medication=rescue, taken_at=now - timedelta(hours=4))
    fresh = services.take_dose(medication=rescue, taken_at=now - timedelta(hours=1))
    stale = services.take_dose(medication=rescue, taken_at=now - timedelta(hours=30))
    assert list(DoseTaken.objects.awaiting_relief(now)) == [old]
    services.answer_relief(dose=old, relief=7)
    assert list(DoseTaken.objects.awaiting_relief(now)) == []
    assert list(DoseTaken.objects.awaiting_relief(now + timedelta(hours=3))) == [fresh]
    services.answer_relief(dose=fresh, relief=None)  # dismissed
    fresh.refresh_from_db()
    assert fresh.relief is None
    assert fresh.relief_asked
    assert list(DoseTaken.objects.awaiting_relief(now + timedelta(hours=3))) == []
    assert stale.relief is None


def test_a_dose_with_relief_given_is_not_asked_about(rescue):
    dose = services.take_dose(
        medication=rescue, taken_at=timezone.now() - timedelta(hours=5), relief=3
    )
    assert dose.relief_asked
    assert not DoseTaken.objects.awaiting_relief(timezone.now()).exists()


def test_the_database_refuses_out_of_range_values(rescue):
    dose = services.take_dose(medication=rescue)
    with pytest.raises(IntegrityError), transaction.atomic():
        DoseTaken.objects.filter(pk=dose.pk).update(relief=11)
    with pytest.raises(IntegrityError), transaction.atomic():
        DoseTaken.objects.filter(pk=dose.pk).update(dose=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Medication.objects.filter(pk=rescue.pk).update(usual_dose=0)


def test_checkin_scores_the_mean_once_per_week(patient):
    monday = datetime(2026, 3, 2, 12, tzinfo=UTC)
    checkin = services.record_checkin(
        patient=patient, average=6, enjoyment=7, activity=4, now=monday
    )
    assert checkin.score == Decimal("5.67")
    assert str(checkin.week) == "2026-03-02"
    with pytest.raises(ValidationError):
        services.record_checkin(
            patient=patient, average=1, enjoyment=1, activity=1, now=monday + timedelta(days=6)
        )
    later = services.record_checkin(
        patient=patient, average=1, enjoyment=1, activity=1, now=monday + timedelta(days=7)
    )
    assert later.score == Decimal("1.00")
    assert CheckIn.objects.count() == 2


def test_checkin_week_is_the_patients_own(patient):
    patient.timezone = "Pacific/Auckland"  # UTC+13 in March
    patient.save()
    sunday_evening_utc = datetime(2026, 3, 1, 20, tzinfo=UTC)  # already Monday in Auckland
    checkin = services.record_checkin(
        patient=patient, average=5, enjoyment=5, activity=5, now=sunday_evening_utc
    )
    assert str(checkin.week) == "2026-03-02"


@pytest.mark.parametrize("value", [-1, 11, True, "5", None])
def test_checkin_refuses_bad_answers(patient, value):
    with pytest.raises(ValidationError):
        services.record_checkin(patient=patient, average=value, enjoyment=5, activity=5)
    assert not CheckIn.objects.exists()


def test_preferences_default_without_a_row_and_save(patient):
    preferences = services.preferences_for(patient)
    assert preferences.pk is None
    assert preferences.checkin_weekday == 0
    services.save_preferences(user=patient, checkin_weekday=4)
    assert services.preferences_for(patient).checkin_weekday == 4
    with pytest.raises(ValidationError):
        services.save_preferences(user=patient, checkin_weekday=9)
