from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def run_seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_a_doctor_and_a_patient_once(settings):
    settings.DEBUG = True
    first = run_seed()
    assert "doctor / painmap-doctor-demo" in first
    assert User.objects.get(username="doctor").is_doctor
    assert User.objects.get(username="patient").is_patient
    second = run_seed()
    assert "Created" not in second
    assert User.objects.count() == 2


def test_seed_demo_does_nothing_without_debug(settings):
    settings.DEBUG = False
    assert "no demo accounts" in run_seed()
    assert not User.objects.exists()
