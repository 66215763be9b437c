from __future__ import annotations

import pytest

from accounts import services
from accounts.models import DOCTORS, PATIENTS

pytestmark = pytest.mark.django_db


def test_set_role_switches_groups(patient):
    services.set_role(users=[patient], role="doctor")
    assert set(patient.groups.values_list("name", flat=True)) == {DOCTORS}
    assert patient.is_doctor
    services.set_role(users=[patient], role="patient")
    assert set(patient.groups.values_list("name", flat=True)) == {PATIENTS}


def test_issue_token_is_stable_until_revoked(patient):
    first = services.issue_token(user=patient)
    assert services.issue_token(user=patient).key == first.key
    services.revoke_token(user=patient)
    assert services.issue_token(user=patient).key != first.key


def test_register_user_reports_a_name_taken_meanwhile():
    # Two sign-ups of one name race past their checks: the unique index decides, and the loser
    # gets UsernameTaken (a 400 / inline form error), not a database error (a 503).
    services.register_user(username="racer", email="one@example.com", password="x-long-pass-1")
    with pytest.raises(services.UsernameTaken):
        services.register_user(username="racer", email="two@example.com", password="x-long-pass-2")
    assert services.User.objects.filter(username="racer").count() == 1
