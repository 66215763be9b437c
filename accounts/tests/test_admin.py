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


# --- staff who are not superusers (issue #10, finding 4) ----------------------------------------


def _staff(username: str, *codenames: str) -> User:
    from django.contrib.auth.models import Permission

    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # a fresh object: no cached permissions


def _client_for(user: User):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_staff_with_view_permission_cannot_make_doctor_or_patient(patient, doctor):
    client = _client_for(_staff("viewer", "view_user"))
    listing = client.get("/admin/accounts/user/")
    assert listing.status_code == 200
    assert "make_doctor" not in listing.content.decode()
    for action, user in (("make_doctor", patient), ("make_patient", doctor)):
        before = set(user.groups.values_list("name", flat=True))
        client.post("/admin/accounts/user/", {"action": action, "_selected_action": [user.pk]})
        assert set(user.groups.values_list("name", flat=True)) == before


def test_staff_with_change_user_can_still_make_doctor(patient):
    client = _client_for(_staff("manager", "view_user", "change_user"))
    action = {"action": "make_doctor", "_selected_action": [patient.pk]}
    client.post("/admin/accounts/user/", action)
    assert set(patient.groups.values_list("name", flat=True)) == {DOCTORS}


def test_staff_with_view_permission_cannot_end_links(patient, doctor):
    from accounts.models import CareLink

    link = CareLink.objects.create(patient=patient, doctor=doctor, status="active")
    client = _client_for(_staff("viewer", "view_carelink"))
    listing = client.get("/admin/accounts/carelink/")
    assert listing.status_code == 200
    assert "end_links" not in listing.content.decode()
    client.post("/admin/accounts/carelink/", {"action": "end_links", "_selected_action": [link.pk]})
    link.refresh_from_db()
    assert link.status == "active"

    manager = _client_for(_staff("manager", "view_carelink", "change_carelink"))
    manager.post(
        "/admin/accounts/carelink/", {"action": "end_links", "_selected_action": [link.pk]}
    )
    link.refresh_from_db()
    assert link.status == "ended"


def _change_form_data(user: User, **overrides) -> dict:
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "timezone": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    data.update(overrides)
    return data


def test_staff_with_change_user_cannot_raise_themselves(doctor):
    from django.contrib.auth.models import Group, Permission

    manager = _staff("manager", "view_user", "change_user")
    client = _client_for(manager)
    every_permission = list(Permission.objects.values_list("pk", flat=True)[:5])
    response = client.post(
        f"/admin/accounts/user/{manager.pk}/change/",
        _change_form_data(
            manager,
            first_name="Changed",
            is_staff="on",
            is_superuser="on",
            groups=[Group.objects.get(name=DOCTORS).pk],
            user_permissions=every_permission,
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    manager.refresh_from_db()
    assert manager.first_name == "Changed"  # the form was saved...
    assert not manager.is_superuser  # ...without what only a superuser may grant
    assert set(manager.groups.values_list("name", flat=True)) == {PATIENTS}
    assert set(manager.user_permissions.values_list("codename", flat=True)) == {
        "view_user",
        "change_user",
    }
    # Nor anyone else: an ordinary user stays ordinary.
    client.post(
        f"/admin/accounts/user/{doctor.pk}/change/",
        _change_form_data(doctor, is_staff="on", is_superuser="on"),
    )
    doctor.refresh_from_db()
    assert not doctor.is_staff
    assert not doctor.is_superuser


def test_staff_add_form_cannot_create_a_superuser():
    client = _client_for(_staff("manager", "view_user", "add_user", "change_user"))
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "crafted",
            "email": "crafted@example.com",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    assert response.status_code == 302
    crafted = User.objects.get(username="crafted")
    assert not crafted.is_staff
    assert not crafted.is_superuser


def test_staff_cannot_edit_a_superuser_or_set_its_password():
    boss = User.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    client = _client_for(_staff("manager", "view_user", "change_user", "delete_user"))
    response = client.post(
        f"/admin/accounts/user/{boss.pk}/change/",
        _change_form_data(boss, email="attacker@example.com", is_superuser="on", is_staff="on"),
    )
    assert response.status_code == 403
    response = client.post(
        f"/admin/accounts/user/{boss.pk}/password/",
        {"password1": "new-password-0xyz", "password2": "new-password-0xyz"},
    )
    assert response.status_code == 403
    response = client.post(f"/admin/accounts/user/{boss.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    boss.refresh_from_db()
    assert boss.email == "boss@example.com"
    assert boss.check_password(PASSWORD)


def test_superuser_still_grants_staff_and_groups(admin_client, patient):
    response = admin_client.post(
        f"/admin/accounts/user/{patient.pk}/change/",
        _change_form_data(patient, is_staff="on", groups=[patient.groups.get().pk]),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    patient.refresh_from_db()
    assert patient.is_staff


def test_staff_with_change_group_cannot_edit_permissions():
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Support")
    manager = _staff("manager", "view_group", "change_group")
    manager.groups.add(group)
    client = _client_for(manager)
    response = client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": "Support", "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )
    assert response.status_code == 302
    assert group.permissions.count() == 0


# --- API tokens: a prefix at most -----------------------------------------------------------


def test_admin_never_shows_a_token_in_full(admin_client, patient):
    from accounts import services

    key = services.issue_token(user=patient).key
    pages = [
        "/admin/",
        "/admin/authtoken/tokenproxy/",
        "/admin/accounts/apitoken/",
        f"/admin/accounts/apitoken/{patient.pk}/change/",
        f"/admin/accounts/apitoken/{patient.pk}/history/",
        f"/admin/accounts/apitoken/{patient.pk}/delete/",
        f"/admin/accounts/user/{patient.pk}/change/",
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code in (200, 404), page
        assert key not in response.content.decode(), page
        assert key[:10] not in response.content.decode(), page
    listing = admin_client.get("/admin/accounts/apitoken/").content.decode()
    assert key[:6] in listing  # the prefix is there to tell tokens apart
    assert "alice" in listing
    # A search by (part of) the key finds nothing: no way to guess it bit by bit.
    found = admin_client.get(f"/admin/accounts/apitoken/?q={key[:6]}")
    assert list(found.context["cl"].result_list) == []


def test_admin_can_delete_a_token(admin_client, patient):
    from rest_framework.authtoken.models import Token

    from accounts import services

    services.issue_token(user=patient)
    response = admin_client.post(f"/admin/accounts/apitoken/{patient.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=patient).exists()


def test_admin_cannot_add_or_change_a_token(admin_client, patient):
    from accounts import services

    key = services.issue_token(user=patient).key
    assert admin_client.get("/admin/accounts/apitoken/add/").status_code == 403
    admin_client.post(f"/admin/accounts/apitoken/{patient.pk}/change/", {"user": patient.pk})
    assert services.issue_token(user=patient).key == key
