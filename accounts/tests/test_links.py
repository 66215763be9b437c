"""Care links: the services' state machine, its races, and /api/auth/links/."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, close_old_connections, transaction

from accounts import services
from accounts.models import CareLink
from conftest import make_user, token_client

pytestmark = pytest.mark.django_db

LINKS = "/api/auth/links/"


@pytest.fixture
def pending(patient, doctor) -> CareLink:
    return services.request_link(patient=patient, doctor=doctor)


@pytest.fixture
def active(pending, doctor) -> CareLink:
    return services.change_link(link=pending, by=doctor, status="active")


def test_request_and_accept(patient, doctor, pending):
    assert pending.status == "pending"
    link = services.change_link(link=pending, by=doctor, status="active")
    assert link.status == "active"
    assert link.responded is not None


@pytest.mark.parametrize(
    ("by", "status", "code"),
    [
        ("patient", "active", 403),  # a patient cannot accept their own request
        ("doctor", "ended", 403),  # a doctor declines a request rather than ending it
        ("doctor", "declined", 200),
        ("patient", "ended", 200),  # withdraw
        ("doctor", "pending", 403),
        ("stranger", "active", 404),
    ],
)
def test_pending_transitions(pending, patient, doctor, by, status, code):
    actor = {"patient": patient, "doctor": doctor, "stranger": make_user("eve", "doctor")}[by]
    if code == 200:
        assert services.change_link(link=pending, by=actor, status=status).status == status
    else:
        with pytest.raises(services.LinkError) as caught:
            services.change_link(link=pending, by=actor, status=status)
        assert caught.value.status == code
        pending.refresh_from_db()
        assert pending.status == "pending"


@pytest.mark.parametrize("by", ["patient", "doctor"])
def test_either_side_ends_an_active_link(active, patient, doctor, by):
    link = services.change_link(
        link=active, by={"patient": patient, "doctor": doctor}[by], status="ended"
    )
    assert link.status == "ended"
    assert link.ended is not None


@pytest.mark.parametrize("status", ["active", "declined", "pending"])
def test_an_ended_link_stays_ended(active, doctor, status):
    services.change_link(link=active, by=doctor, status="ended")
    with pytest.raises(services.LinkError):
        services.change_link(link=active, by=doctor, status=status)


def test_stale_answer_is_a_conflict(pending, doctor):
    stale = CareLink.objects.get(pk=pending.pk)
    services.change_link(link=pending, by=doctor, status="declined")
    with pytest.raises(services.LinkError) as caught:
        services.change_link(link=stale, by=doctor, status="active")
    assert caught.value.status == 409
    assert CareLink.objects.get(pk=pending.pk).status == "declined"


def test_only_one_open_link_per_pair(patient, doctor, pending, settings):
    with pytest.raises(services.LinkError):
        services.request_link(patient=patient, doctor=doctor)
    with pytest.raises(IntegrityError), transaction.atomic():
        CareLink.objects.create(patient=patient, doctor=doctor, status="active")
    services.change_link(link=pending, by=doctor, status="declined")
    with pytest.raises(services.LinkCooldownError):  # not at once after a decline...
        services.request_link(patient=patient, doctor=doctor)
    settings.LINK_REQUEST_COOLDOWN_DAYS = 0  # ...but a closed link leaves the pair free
    assert services.request_link(patient=patient, doctor=doctor).status == "pending"


def test_requests_need_a_patient_and_a_doctor(patient, other_patient, doctor):
    with pytest.raises(services.LinkError):
        services.request_link(patient=patient, doctor=other_patient)
    with pytest.raises(services.LinkError) as caught:
        services.request_link(patient=doctor, doctor=make_user("house", "doctor"))
    assert caught.value.status == 403


@pytest.mark.django_db(transaction=True)
def test_double_accept_race_has_one_winner(patient, doctor):
    link = services.request_link(patient=patient, doctor=doctor)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def accept() -> None:
        try:
            copy = CareLink.objects.get(pk=link.pk)
            barrier.wait()
            services.change_link(link=copy, by=doctor, status="active")
            outcomes.append("won")
        except services.LinkError as exc:
            outcomes.append(str(exc.status))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["409", "won"]
    assert CareLink.objects.get(pk=link.pk).status == "active"


# API -----------------------------------------------------------------------------------------


def test_api_request_list_and_accept(patient, doctor):
    patient_api, doctor_api = token_client(patient), token_client(doctor)
    created = patient_api.post(LINKS, {"doctor": doctor.username})
    assert created.status_code == 201
    body = created.json()
    assert (body["patient"], body["doctor"], body["status"]) == ("alice", "drwho", "pending")
    assert {"id", "patient", "doctor", "status", "created"} <= set(body)
    assert [link["id"] for link in doctor_api.get(LINKS).json()] == [body["id"]]
    accepted = doctor_api.patch(LINKS, {"link_pk": body["id"], "status": "active"})
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "active"
    assert patient_api.get(LINKS).json()[0]["status"] == "active"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, 400),
        ({"doctor": 5}, 400),
        ({"doctor": "nobody"}, 404),
        ({"doctor": "bob"}, 400),  # not a doctor
    ],
)
def test_api_bad_requests(patient, other_patient, payload, code):
    response = token_client(patient).post(LINKS, payload)
    assert response.status_code == code
    assert not CareLink.objects.exists()


def test_api_doctor_cannot_request(doctor):
    make_user("house", "doctor")
    response = token_client(doctor).post(LINKS, {"doctor": "house"})
    assert response.status_code == 403
    assert "error" in response.json()


def test_api_already_linked(patient, doctor, pending):
    response = token_client(patient).post(LINKS, {"doctor": doctor.username})
    assert response.status_code == 400
    assert "already" in response.json()["error"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"status": "active"}, 400),
        ({"link_pk": "x", "status": "active"}, 400),
        ({"link_pk": 999999, "status": "active"}, 404),
        ({"status": "maybe"}, 400),
    ],
)
def test_api_bad_changes(doctor, pending, payload, code):
    data = {"link_pk": pending.pk, **payload} if "link_pk" not in payload else payload
    if payload == {"status": "active"}:
        data = payload
    response = token_client(doctor).patch(LINKS, data)
    assert response.status_code == code
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_api_outsiders_see_nothing(pending, other_patient):
    outsider = token_client(other_patient)
    assert outsider.get(LINKS).json() == []
    response = outsider.patch(LINKS, {"link_pk": pending.pk, "status": "ended"})
    assert response.status_code == 404


def test_api_patient_cannot_accept(patient, pending):
    response = token_client(patient).patch(LINKS, {"link_pk": pending.pk, "status": "active"})
    assert response.status_code == 403


def test_api_declined_request_repeated_is_429_with_retry_after(patient, doctor):
    from datetime import timedelta

    from django.utils import timezone

    link = services.request_link(patient=patient, doctor=doctor)
    services.change_link(link=link, by=doctor, status="declined")
    CareLink.objects.filter(pk=link.pk).update(responded=timezone.now() - timedelta(days=6))
    response = token_client(patient).post(LINKS, {"doctor": "drwho"}, format="json")
    assert response.status_code == 429
    assert "You can ask again from" in response.json()["error"]
    assert 23 * 3600 < int(response["Retry-After"]) <= 24 * 3600
    assert CareLink.objects.count() == 1
    # Other errors keep their status: a second pending request is still a 400.
    other = make_user("house", "doctor")
    assert token_client(patient).post(LINKS, {"doctor": "house"}).status_code == 201
    assert token_client(patient).post(LINKS, {"doctor": "house"}).status_code == 400
    assert other.patient_links.count() == 1
