from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as accounts
from clinical import services
from diary import services as diary_services
from diary.models import BodyPart


@pytest.fixture
def rescue(patient):
    return services.add_medication(
        patient=patient, name="Ibuprofen", usual_dose=Decimal("400"), unit="mg", kind="rescue"
    )


@pytest.fixture
def bobs_medication(other_patient):
    return services.add_medication(
        patient=other_patient, name="Secretol", usual_dose=Decimal("5"), unit="mg"
    )


@pytest.fixture
def linked_doctor(patient, doctor):
    link = accounts.request_link(patient=patient, doctor=doctor)
    accounts.change_link(link=link, by=doctor, status="active")
    return doctor


def record(owner, intensity=5, ago=timedelta(0), part="knee-left"):
    return diary_services.record_pain(
        owner=owner,
        body_part=BodyPart.objects.get(name=part),
        pain_type="burning",
        intensity=intensity,
        date_recorded=timezone.now() - ago,
    )
