"""The care-link pages: directory, care team, confirmations, the access log and the badge."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import access, services
from accounts.models import CareLink, DiaryAccess
from conftest import make_user

pytestmark = pytest.mark.django_db


def test_directory_lists_only_doctors_and_searches(client, patient, other_patient, doctor):
    make_user("house", "doctor", first_name="Gregory", last_name="House")
    client.force_login(patient)
    page = client.get(reverse("doctor_directory")).content.decode()
    assert "@drwho" in page
    assert "@house" in page
    assert "@bob" not in page  # patients never see other patients
    found = client.get(reverse("doctor_directory"), {"q": "greg"}).content.decode()
    assert "@house" in found
    assert "@drwho" not in found
    none = client.get(reverse("doctor_directory"), {"q": "zzz"})
    assert "No doctor matches" in none.content.decode()


def test_request_from_the_directory(client, patient, doctor):
    client.force_login(patient)
    response = client.post(reverse("link_request", args=[doctor.username]))
    assert response.status_code == 302
    assert CareLink.objects.get().status == "pending"
    again = client.post(reverse("link_request", args=[doctor.username]), follow=True)
    assert "already have a pending or active link" in again.content.decode()
    assert CareLink.objects.count() == 1


def test_request_to_a_non_doctor_is_404(client, patient, other_patient):
    client.force_login(patient)
    assert client.post(reverse("link_request", args=["bob"])).status_code == 404
    assert client.get(reverse("link_request", args=["drwho"])).status_code == 405


def test_doctor_badge_accept_and_confirmed_end(client, patient, doctor):
    link = services.request_link(patient=patient, doctor=doctor)
    client.force_login(doctor)
    page = client.get(reverse("care_team")).content.decode()
    assert 'id="pending-link-badge"' in page
    response = client.post(reverse("link_change", args=[link.pk, "active"]))
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.status == "active"
    assert 'id="pending-link-badge"' not in client.get("/").content.decode()
    # Ending asks first (GET shows a confirmation and changes nothing), then POST ends it.
    confirm = client.get(reverse("link_change", args=[link.pk, "ended"]))
    assert "End this link?" in confirm.content.decode()
    link.refresh_from_db()
    assert link.status == "active"
    client.post(reverse("link_change", args=[link.pk, "ended"]))
    link.refresh_from_db()
    assert link.status == "ended"


def test_patient_cannot_accept_own_request(client, patient, doctor):
    link = services.request_link(patient=patient, doctor=doctor)
    client.force_login(patient)
    response = client.post(reverse("link_change", args=[link.pk, "active"]), follow=True)
    assert "cannot change a pending link to active" in response.content.decode()
    link.refresh_from_db()
    assert link.status == "pending"


def test_strangers_get_404_on_someone_elses_link(client, patient, other_patient, doctor):
    link = services.request_link(patient=patient, doctor=doctor)
    client.force_login(other_patient)
    assert client.get(reverse("link_change", args=[link.pk, "ended"])).status_code == 404
    assert client.post(reverse("link_change", args=[link.pk, "ended"])).status_code == 404
    assert client.post(reverse("link_change", args=[link.pk, "bogus"])).status_code == 404


def test_access_log_shows_only_my_readers(client, patient, other_patient, doctor):
    access.record_diary_access(viewer=doctor, patient=patient, what="pain entries")
    access.record_diary_access(viewer=doctor, patient=other_patient, what="notes")
    access.record_diary_access(viewer=patient, patient=patient, what="own diary")
    assert DiaryAccess.objects.count() == 2  # reading one's own diary leaves no trace
    client.force_login(patient)
    page = client.get(reverse("access_log")).content.decode()
    assert "@drwho" in page
    assert "pain entries" in page
    assert "notes" not in page.split('id="access-log"')[1]


def test_access_log_empty_state(client, patient):
    client.force_login(patient)
    assert "Nobody else has viewed your diary" in client.get(reverse("access_log")).content.decode()


def test_access_log_is_read_only_in_admin(client, patient, doctor):
    from accounts.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "x-long-pass-123")
    access.record_diary_access(viewer=doctor, patient=patient, what="pain entries")
    client.force_login(admin)
    read = DiaryAccess.objects.get()
    assert client.get("/admin/accounts/diaryaccess/").status_code == 200
    assert client.get(f"/admin/accounts/diaryaccess/{read.pk}/change/").status_code == 200
    assert client.post(f"/admin/accounts/diaryaccess/{read.pk}/delete/").status_code == 403
    assert DiaryAccess.objects.count() == 1


def test_access_rules(patient, other_patient, doctor):
    house = make_user("house", "doctor")
    assert access.can_chat(doctor, house)  # both doctors
    assert not access.can_chat(patient, doctor)
    assert not access.can_chat(patient, other_patient)
    assert not access.can_chat(patient, patient)
    link = services.request_link(patient=patient, doctor=doctor)
    assert not access.can_chat(patient, doctor)  # pending is not enough
    services.change_link(link=link, by=doctor, status="active")
    assert access.can_chat(patient, doctor)
    assert access.can_chat(doctor, patient)
    assert access.readable_patient(doctor, "alice") == patient
    assert access.readable_patient(house, "alice") is None
    assert access.readable_patient(other_patient, "alice") is None
    assert access.readable_patient(patient, "") == patient
    services.change_link(link=link, by=patient, status="ended")
    assert not access.can_chat(doctor, patient)
    assert access.readable_patient(doctor, "alice") is None


def test_chat_allowed_pairs_matches_can_chat(
    patient, other_patient, doctor, django_assert_num_queries
):
    house = make_user("house", "doctor")
    link = services.request_link(patient=patient, doctor=doctor)
    services.change_link(link=link, by=doctor, status="active")
    services.request_link(patient=other_patient, doctor=doctor)  # pending: no chat yet
    ended = services.request_link(patient=patient, doctor=house)
    services.change_link(link=ended, by=house, status="active")
    services.change_link(link=ended, by=patient, status="ended")
    pairs = {
        (a, b)
        for a in (patient, other_patient, doctor, house)
        for b in (patient, other_patient, doctor, house)
    }
    for user in (patient, other_patient, doctor, house):
        user.group_names  # noqa: B018 - roles loaded, as a chat socket holds them
    with django_assert_num_queries(1):
        allowed = access.chat_allowed_pairs(pairs)
    assert allowed == {(a.pk, b.pk) for a, b in pairs if access.can_chat(a, b)}
    assert (patient.pk, doctor.pk) in allowed
    assert (doctor.pk, house.pk) in allowed
    assert (patient.pk, other_patient.pk) not in allowed
    assert (other_patient.pk, doctor.pk) not in allowed
    assert (house.pk, patient.pk) not in allowed


# --- a declined request cannot be repeated at once (issue #10, finding 8) ---------------------


def _declined(patient, doctor, days_ago: float = 0) -> CareLink:
    from datetime import timedelta

    from django.utils import timezone

    link = services.request_link(patient=patient, doctor=doctor)
    services.change_link(link=link, by=doctor, status="declined")
    CareLink.objects.filter(pk=link.pk).update(responded=timezone.now() - timedelta(days=days_ago))
    return link


def test_declined_request_cannot_be_repeated_from_the_directory(client, patient, doctor):
    _declined(patient, doctor)
    client.force_login(patient)
    listing = client.get(reverse("doctor_directory")).content.decode()
    assert "you can ask again from" in listing
    assert reverse("link_request", args=[doctor.username]) not in listing
    again = client.post(reverse("link_request", args=[doctor.username]), follow=True)
    assert "drwho declined your request recently. You can ask again from" in (
        again.content.decode()
    )
    assert list(CareLink.objects.values_list("status", flat=True)) == ["declined"]


def test_declined_request_can_be_repeated_after_the_cooldown(client, patient, doctor, settings):
    settings.LINK_REQUEST_COOLDOWN_DAYS = 7
    _declined(patient, doctor, days_ago=7.01)
    client.force_login(patient)
    assert reverse("link_request", args=[doctor.username]) in (
        client.get(reverse("doctor_directory")).content.decode()
    )
    client.post(reverse("link_request", args=[doctor.username]))
    assert sorted(CareLink.objects.values_list("status", flat=True)) == ["declined", "pending"]


def test_cooldown_zero_allows_asking_again_at_once(client, patient, doctor, settings):
    settings.LINK_REQUEST_COOLDOWN_DAYS = 0
    _declined(patient, doctor)
    assert services.request_link(patient=patient, doctor=doctor).status == "pending"


def test_a_withdrawn_request_can_be_made_again_at_once(patient, doctor):
    link = services.request_link(patient=patient, doctor=doctor)
    services.change_link(link=link, by=patient, status="ended")
    assert services.request_link(patient=patient, doctor=doctor).status == "pending"


def test_directory_still_shows_doctors_names_to_anyone(client, other_patient):
    # The one exception to "real names only between people who know each other": the
    # directory is a professional listing.
    make_user("house", "doctor", first_name="Gregory", last_name="House")
    client.force_login(other_patient)
    assert "Gregory House" in client.get(reverse("doctor_directory")).content.decode()
    assert not access.name_visible(other_patient, make_user("carol", first_name="Carol"))
