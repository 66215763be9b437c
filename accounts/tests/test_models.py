from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import DOCTORS, PATIENTS, User, validate_timezone
from conftest import make_user

pytestmark = pytest.mark.django_db


def test_role_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {PATIENTS, DOCTORS}


def test_create_user_joins_patients():
    user = User.objects.create_user("carol", "carol@example.com", "x-very-long-pass")
    assert list(user.groups.values_list("name", flat=True)) == [PATIENTS]
    assert user.is_patient
    assert not user.is_doctor
    assert user.role == "Patient"


def test_create_superuser_joins_patients():
    admin = User.objects.create_superuser("root", "root@example.com", "x-very-long-pass")
    assert admin.groups.filter(name=PATIENTS).exists()


def test_email_is_unique_ignoring_case():
    make_user("one", email="Same@Example.com")
    with pytest.raises(IntegrityError):
        User.objects.create_user("two", "same@example.COM", "x-very-long-pass")


def test_doctor_role():
    assert make_user("house", role="doctor").role == "Doctor"


def test_timezone_validator():
    validate_timezone("Europe/Paris")
    validate_timezone("")
    with pytest.raises(ValidationError):
        validate_timezone("Mars/Olympus")


def test_tzinfo_is_the_chosen_zone_else_the_sites(settings):
    settings.TIME_ZONE = "Europe/Paris"
    assert User(timezone="America/New_York").tzinfo.key == "America/New_York"
    assert User(timezone="").tzinfo.key == "Europe/Paris"
    # A zone gone from the system's database (or a bad row) falls back instead of failing a page.
    assert User(timezone="Mars/Olympus").tzinfo.key == "Europe/Paris"
