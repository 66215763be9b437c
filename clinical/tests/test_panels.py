"""The doctor's medication panel, read with the shared notes in one query: each list's rows,
values and order, by hand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinical import services
from clinical.models import DoseTaken
from clinical.panels import notes_and_medications
from diary.models import Note

pytestmark = pytest.mark.django_db


def test_notes_and_medications_are_each_read_on_its_own(patient, rescue, bobs_medication):
    now = timezone.now()
    aspirin = services.add_medication(patient=patient, name="Aspirin", usual_dose=Decimal("0.5"))
    zinc = services.add_medication(
        patient=patient, name="Zinc", usual_dose=Decimal(25), kind="preventive"
    )
    stopped = services.add_medication(patient=patient, name="Amitriptyline", usual_dose=Decimal(10))
    services.set_medication_active(medication=stopped, active=False)
    for medication, days, relief in (
        (rescue, 1, 7),
        (rescue, 2, 4),
        (rescue, 3, None),
        (rescue, 40, 1),  # too old to count
        (aspirin, 5, 3),
        (zinc, 6, None),
        (stopped, 2, 9),
    ):
        DoseTaken.objects.create(
            medication=medication, taken_at=now - timedelta(days=days), dose=1, relief=relief
        )
    DoseTaken.objects.create(medication=bobs_medication, taken_at=now, dose=1, relief=10)
    for title, shared in (("first", True), ("private", False), ("second", True)):
        Note.objects.create(owner=patient, title=title, body="b", shared=shared)
    Note.objects.create(owner=bobs_medication.patient, title="bob's", body="b", shared=True)
    shared = patient.notes.filter(shared=True)

    notes, summary = notes_and_medications(patient, shared, now)

    # Active first, by name; each with its doses of the last 28 days and the relief answered.
    assert [
        (m.name, m.usual_dose, m.kind, m.active, m.recent_doses, m.relief_answers, m.relief_mean)
        for m in summary["medications"]
    ] == [
        ("Aspirin", Decimal("0.50"), "rescue", True, 1, 1, 3.0),
        ("Ibuprofen", Decimal("400.00"), "rescue", True, 3, 2, 5.5),  # (7 + 4) / 2; not 40 days
        ("Zinc", Decimal("25.00"), "preventive", True, 1, 0, None),
        ("Amitriptyline", Decimal("10.00"), "rescue", False, 1, 1, 9.0),
    ]
    assert [m.pk for m in summary["medications"]] == [aspirin.pk, rescue.pk, zinc.pk, stopped.pk]
    # Rescue doses, stopped ones too: 1 + 3 + 1 in 28 days.
    assert (summary["rescue_doses"], summary["recent_days"]) == (5, 28)
    assert summary["rescue_per_week"] == round(5 * 7 / 28, 1)
    assert notes == list(shared)
    assert [(n.title, n.body, n.last_modified) for n in notes] == [
        (n.title, n.body, n.last_modified) for n in shared
    ]
    assert [n.title for n in notes] == ["second", "first"]


def test_nothing_to_read(patient):
    notes, summary = notes_and_medications(patient, patient.notes.filter(shared=True))
    assert (notes, summary["medications"], summary["rescue_doses"]) == ([], [], 0)
