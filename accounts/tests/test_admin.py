from __future__ import annotations

import pytest

from accounts.models import DOCTORS, PATIENTS, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    client.force_login(admin)
    return client


def test_make_doctor_and_make_patient_actions(admin_client, patient, other_patient):
    url = "/admin/accounts/user/"
    response = admin_client.post(
        url, {"action": "make_doctor", "_selected_action": [patient.pk, other_patient.pk]}
    )
    assert response.status_code == 302
    for user in (patient, other_patient):
        assert set(user.groups.values_list("name", flat=True)) == {DOCTORS}
    admin_client.post(url, {"action": "make_patient", "_selected_action": [patient.pk]})
    assert set(patient.groups.values_list("name", flat=True)) == {PATIENTS}


def test_filter_by_group(admin_client, patient, doctor):
    doctors_group = doctor.groups.get()
    response = admin_client.get(f"/admin/accounts/user/?groups__id__exact={doctors_group.pk}")
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown == [doctor]


def test_user_added_in_admin_joins_patients(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "added",
            "email": "added@example.com",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(username="added").groups.filter(name=PATIENTS).exists()


def test_admin_add_requires_email(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "noemail",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="noemail").exists()
