"""Deleting one's own account: the service, the page (/accounts/delete/) and the API
(DELETE /api/auth/profile/), and what the people one talked with still see."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.models import DELETED_USER, CareLink, DiaryAccess, User
from conftest import PASSWORD, make_user, token_client
from diary import services as diary
from diary.models import BodyPart, Note, PainEntry
from messaging.models import Message
from messaging.services import PEER_DELETED

pytestmark = pytest.mark.django_db

DELETE_PAGE = "/accounts/delete/"
PROFILE_API = "/api/auth/profile/"


def link(patient: User, doctor: User) -> CareLink:
    request = services.request_link(patient=patient, doctor=doctor)
    return services.change_link(link=request, by=doctor, status="active")


def entry(owner: User, intensity: int = 5) -> PainEntry:
    return diary.record_pain(
        owner=owner,
        body_part=BodyPart.objects.get(name="knee-left"),
        pain_type="burning",
        intensity=intensity,
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sessions_of(user: User) -> list[str]:
    return [
        session.session_key
        for session in Session.objects.all()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]


@dataclass
class World:
    alice: User  # the patient who deletes her account
    bob: User  # another patient of the same doctor, who keeps his
    doctor: User
    alice_link: CareLink
    bob_link: CareLink
    alice_browsers: list[Client]
    bob_browser: Client


@pytest.fixture
def world(patient, other_patient, doctor) -> World:
    alice, bob = patient, other_patient
    alice_link, bob_link = link(alice, doctor), link(bob, doctor)
    for owner in (alice, alice, bob):
        entry(owner)
    diary.create_note(owner=alice, title="alice's note", shared=True)
    diary.create_note(owner=bob, title="bob's note", shared=True)
    for sender, receiver, text in [
        (alice, doctor, "her first"),
        (doctor, alice, "the reply"),
        (alice, doctor, "her second"),
        (bob, doctor, "from bob"),
        (doctor, bob, "to bob"),
    ]:
        Message.objects.create(sender=sender, receiver=receiver, text=text)
    for patient_ in (alice, bob):
        DiaryAccess.objects.create(viewer=doctor, patient=patient_, what="diary page")
    services.issue_token(user=alice)
    services.issue_token(user=bob)
    return World(
        alice=alice,
        bob=bob,
        doctor=doctor,
        alice_link=alice_link,
        bob_link=bob_link,
        alice_browsers=[signed_in(alice), signed_in(alice)],
        bob_browser=signed_in(bob),
    )


def snapshot_of_others(world: World) -> dict[str, object]:
    """Everything that belongs to the people who do not delete anything."""
    bob, doctor = world.bob, world.doctor
    return {
        "bob entries": list(PainEntry.objects.filter(owner=bob).values_list("pk", flat=True)),
        "bob notes": list(Note.objects.filter(owner=bob).values_list("pk", flat=True)),
        "bob messages": list(Message.objects.involving(bob).values_list("pk", "text")),
        "doctor sent": list(Message.objects.filter(sender=doctor).values_list("pk", "text")),
        "bob link": CareLink.objects.filter(pk=world.bob_link.pk).values_list("status").get(),
        "bob reads": list(DiaryAccess.objects.filter(patient=bob).values_list("pk", flat=True)),
        "bob token": Token.objects.get(user=bob).key,
        "bob sessions": sessions_of(bob),
        "bob": User.objects.filter(pk=bob.pk).values_list("username", "email", "is_active").get(),
    }


# The service


def test_delete_account_removes_her_data_and_keeps_a_nameless_tombstone(world):
    alice = world.alice
    others = snapshot_of_others(world)
    assert len(sessions_of(alice)) == 2
    alice_pk = alice.pk

    services.delete_account(user=alice)

    assert not PainEntry.objects.filter(owner_id=alice_pk).exists()
    assert not Note.objects.filter(owner_id=alice_pk).exists()
    assert not Message.objects.filter(sender_id=alice_pk).exists()
    # What the doctor wrote to her stays the doctor's.
    assert list(Message.objects.filter(receiver_id=alice_pk).values_list("text", flat=True)) == [
        "the reply"
    ]
    assert not DiaryAccess.objects.filter(patient_id=alice_pk).exists()
    assert not Token.objects.filter(user_id=alice_pk).exists()
    assert sessions_of(alice) == []
    link_ = CareLink.objects.get(pk=world.alice_link.pk)
    assert link_.status == CareLink.Status.ENDED
    assert link_.ended is not None

    tombstone = User.objects.get(pk=alice_pk)
    assert tombstone.username.startswith("deleted-")
    assert "alice" not in tombstone.username
    assert (tombstone.first_name, tombstone.last_name, tombstone.timezone) == ("", "", "")
    assert tombstone.email == f"deleted-{alice_pk}@invalid"
    assert not tombstone.has_usable_password()
    assert not tombstone.is_active
    assert not tombstone.is_staff
    assert not tombstone.is_superuser
    assert not tombstone.groups.exists()
    assert not tombstone.user_permissions.exists()
    assert tombstone.deleted_at is not None
    assert tombstone.is_deleted
    assert tombstone.display_name() == DELETED_USER
    assert tombstone.last_login is None
    assert tombstone.digest_emails is False

    assert snapshot_of_others(world) == others


def test_two_deleted_accounts_get_distinct_names_and_emails(patient, other_patient):
    services.delete_account(user=patient)
    services.delete_account(user=other_patient)
    first, second = User.objects.filter(pk__in=[patient.pk, other_patient.pk])
    assert first.username != second.username
    assert first.email.lower() != second.email.lower()


def test_deleting_twice_changes_nothing_more(patient):
    first = services.delete_account(user=patient)
    second = services.delete_account(user=User.objects.get(pk=patient.pk))
    assert (second.username, second.deleted_at) == (first.username, first.deleted_at)


def test_deleting_a_doctor_ends_the_links_and_keeps_the_patients_diaries(world, client):
    doctor = world.doctor
    services.delete_account(user=doctor)

    for link_ in (world.alice_link, world.bob_link):
        link_.refresh_from_db()
        assert link_.status == CareLink.Status.ENDED
    assert PainEntry.objects.filter(owner=world.alice).count() == 2
    assert PainEntry.objects.filter(owner=world.bob).count() == 1
    # Her reads of the patients' diaries stay in their logs, with no name on them.
    assert DiaryAccess.objects.filter(viewer_id=doctor.pk).count() == 2
    client.force_login(world.alice)
    log = client.get(reverse("access_log")).content.decode()
    assert DELETED_USER in log
    assert "drwho" not in log
    care = client.get(reverse("care_team")).content.decode()
    assert f"{DELETED_USER} — ended" in care
    assert "drwho" not in care
    assert "No doctor can see your diary." in care


def test_a_deleted_patient_leaves_the_doctors_patient_list(world):
    services.delete_account(user=world.alice)
    page = signed_in(world.doctor).get(reverse("diary:patients")).content.decode()
    assert 'data-patient="bob"' in page
    assert DELETED_USER not in page
    assert 'data-patient="alice"' not in page


def test_a_pending_request_of_a_deleted_doctor_ends(patient, other_patient):
    house = make_user("house", role="doctor")
    pending = services.request_link(patient=patient, doctor=house)
    services.delete_account(user=house)
    pending.refresh_from_db()
    assert pending.status == CareLink.Status.ENDED


def test_admin_log_entries_stay_with_the_tombstone(patient):
    staff = make_user("admin", is_staff=True, is_superuser=True)
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[patient],
        action_flag=CHANGE,
        change_message="made a change",
    )
    services.delete_account(user=staff)
    assert LogEntry.objects.filter(user_id=staff.pk).count() == 1
    assert ContentType.objects.get_for_model(User)  # the admin log still resolves


# What the people she talked with see


def test_the_doctors_inbox_and_chat_say_deleted_user(world):
    services.delete_account(user=world.alice)
    tombstone = User.objects.get(pk=world.alice.pk)
    browser = signed_in(world.doctor)

    inbox = browser.get(reverse("chat-inbox")).content.decode()
    assert DELETED_USER in inbox
    assert "alice" not in inbox
    assert "You: the reply" in inbox  # the last message left is the doctor's own

    chat = browser.get(reverse("chat", args=[tombstone.username]))
    assert chat.status_code == 200
    page = chat.content.decode()
    assert DELETED_USER in page
    assert "Account deleted" in page
    assert "the reply" in page
    assert "her first" not in page
    assert "her second" not in page
    assert PEER_DELETED in page
    assert 'ws-connect="/ws/chat/' not in page
    assert 'id="chat-form"' not in page


def test_the_api_conversation_with_a_deleted_user_is_read_only(world):
    services.delete_account(user=world.alice)
    tombstone = User.objects.get(pk=world.alice.pk)
    doctor_api = token_client(world.doctor)

    listed = doctor_api.get("/api/chat/conversations/").json()["unique_peers"]
    assert tombstone.username in listed
    assert "alice" not in listed
    history = doctor_api.get(f"/api/chat/conversations/{tombstone.username}/").json()
    assert [m["message"] for m in history] == ["the reply"]
    started = doctor_api.post("/api/chat/conversations/", {"peer_username": tombstone.username})
    assert started.status_code == 403
    assert started.json() == {"error": PEER_DELETED}


def test_a_deactivated_but_not_deleted_user_is_still_not_found(world):
    User.objects.filter(pk=world.alice.pk).update(is_active=False)
    response = token_client(world.doctor).get("/api/chat/conversations/alice/")
    assert response.status_code == 404


# The page


def test_the_page_says_what_goes_and_what_stays(world):
    page = world.alice_browsers[0].get(DELETE_PAGE)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Your pain diary: 2 entries." in text
    assert "The messages you sent: 2." in text
    assert "Your care links end now (1 open)" in text
    assert 'type="password"' in text
    assert 'name="password"' in text
    assert reverse("account_export") in text


def test_the_doctors_page_says_the_patients_keep_their_diaries(world):
    text = signed_in(world.doctor).get(DELETE_PAGE).content.decode()
    assert "Your patients keep their diaries." in text
    assert "(2 open)" in text


def test_the_profile_links_to_export_and_delete(patient, client):
    client.force_login(patient)
    text = client.get(reverse("profile")).content.decode()
    assert f'href="{DELETE_PAGE}"' in text
    assert 'href="/accounts/export/"' in text


def test_anonymous_is_sent_to_sign_in(client):
    for method in (client.get, client.post):
        response = method(DELETE_PAGE, {"password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_right_password_deletes_signs_out_and_goes_home(world):
    alice = world.alice
    browser, other_browser = world.alice_browsers
    response = browser.post(DELETE_PAGE, {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [(reverse("home"), 302)]
    text = response.content.decode()
    assert "Your account and your data were deleted." in text
    assert not response.wsgi_request.user.is_authenticated
    assert User.objects.get(pk=alice.pk).is_deleted
    # Signed out everywhere, and cannot sign in again.
    for client in (browser, other_browser):
        assert client.get(reverse("profile")).status_code == 302
    assert not Client().login(username="alice", password=PASSWORD)
    answer = Client().post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert answer.status_code == 400


@pytest.mark.parametrize("data", [{"password": "wrong password"}, {"password": ""}, {}])
def test_a_wrong_or_missing_password_changes_nothing(world, data):
    before = snapshot_of_others(world)
    response = world.alice_browsers[0].post(DELETE_PAGE, data)
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    alice = User.objects.get(pk=world.alice.pk)
    assert alice.username == "alice"
    assert not alice.is_deleted
    assert alice.is_active
    assert PainEntry.objects.filter(owner=alice).count() == 2
    assert len(sessions_of(alice)) == 2
    assert snapshot_of_others(world) == before


def test_someone_elses_password_does_not_delete_anyone(world):
    response = world.alice_browsers[0].post(DELETE_PAGE, {"password": "bob-has-his-own-1"})
    assert response.status_code == 400
    world.bob.set_password("bob-has-his-own-1")
    world.bob.save()
    response = world.alice_browsers[0].post(
        DELETE_PAGE + "?username=bob", {"password": "bob-has-his-own-1", "username": "bob"}
    )
    assert response.status_code == 400
    assert not User.objects.filter(deleted_at__isnull=False).exists()


def test_wrong_passwords_are_limited_like_sign_ins(world, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    browser = world.alice_browsers[0]
    for _ in range(3):
        assert browser.post(DELETE_PAGE, {"password": "guess"}).status_code == 400
    # Even the right password waits now: the page cannot be used to guess without limit.
    response = browser.post(DELETE_PAGE, {"password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not User.objects.get(pk=world.alice.pk).is_deleted


def test_the_username_and_email_are_free_again(patient, api_client):
    services.delete_account(user=patient)
    response = api_client.post(
        "/api/auth/register/",
        {"username": "alice", "email": "ALICE@example.com", "password": PASSWORD},
    )
    assert response.status_code == 201
    newcomer = User.objects.get(username="alice")
    assert newcomer.pk != patient.pk
    assert not Message.objects.involving(newcomer).exists()


# The API


def test_api_delete_with_the_password(world):
    alice = world.alice
    api = token_client(alice)
    others = snapshot_of_others(world)

    response = api.delete(PROFILE_API, {"password": PASSWORD})

    assert response.status_code == 204
    assert response.content == b""
    assert User.objects.get(pk=alice.pk).is_deleted
    assert not PainEntry.objects.filter(owner_id=alice.pk).exists()
    assert sessions_of(alice) == []
    assert api.get(PROFILE_API).status_code == 401
    assert snapshot_of_others(world) == others
    login = world.bob_browser.post(
        "/api/auth/login/", {"username": "alice", "password": PASSWORD}, "application/json"
    )
    assert login.status_code == 400


@pytest.mark.parametrize(
    ("body", "field_error"),
    [
        ({"password": "wrong password"}, True),
        ({"password": ""}, True),
        ({"password": 42}, True),
        ({}, True),
        (["not", "an", "object"], False),
        (None, False),
    ],
)
def test_api_delete_with_a_wrong_or_missing_password_changes_nothing(world, body, field_error):
    api = token_client(world.alice)
    response = api.delete(PROFILE_API, body, format="json") if body is not None else None
    if response is None:
        response = api.delete(PROFILE_API)
    assert response.status_code == 400
    payload = response.json()
    if field_error:
        assert "password" in payload
    else:
        assert payload
    alice = User.objects.get(pk=world.alice.pk)
    assert not alice.is_deleted
    assert Token.objects.filter(user=alice).exists()
    assert PainEntry.objects.filter(owner=alice).count() == 2


def test_api_delete_that_is_not_json_changes_nothing(world):
    api = token_client(world.alice)
    response = api.generic("DELETE", PROFILE_API, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()
    assert not User.objects.get(pk=world.alice.pk).is_deleted


def test_api_delete_needs_a_token(api_client, patient):
    response = api_client.delete(PROFILE_API, {"password": PASSWORD})
    assert response.status_code == 401
    assert "error" in response.json()
    assert not User.objects.get(pk=patient.pk).is_deleted


def test_api_delete_is_limited_like_sign_ins(patient, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    api = token_client(patient)
    for _ in range(2):
        assert api.delete(PROFILE_API, {"password": "guess"}).status_code == 400
    response = api.delete(PROFILE_API, {"password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "error" in response.json()
    assert not User.objects.get(pk=patient.pk).is_deleted


def test_api_profile_get_keeps_its_fields(patient):
    response = token_client(patient).get(PROFILE_API)
    assert response.status_code == 200
    # The original fields, plus the optional email_verified of the verification feature.
    assert set(response.json()) == {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "groups",
        "email_verified",
    }


def test_schema_documents_delete_and_export(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    profile = schema["paths"]["/api/auth/profile/"]
    assert {"get", "delete"} <= set(profile)
    assert {"204", "400", "401", "429"} <= set(profile["delete"]["responses"])
    assert "AccountDelete" in str(profile["delete"]["requestBody"])
    export = schema["paths"]["/api/auth/export/"]["get"]
    assert "AccountExport" in str(export["responses"]["200"])


def test_the_chat_page_shows_no_message_as_a_flash_alert(world):
    """The chat page passed its messages as "messages", which base.html shows as the flash
    alerts: every chat message appeared a second time at the top, as "2 -> 1: text"."""
    page = signed_in(world.doctor).get(reverse("chat", args=["alice"])).content.decode()
    assert 'id="messages"' not in page
    assert f"{world.doctor.pk} -&gt; {world.alice.pk}" not in page
    assert "the reply" in page


def test_a_right_password_clears_the_failures_for_the_freed_username(patient, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    api = token_client(patient)
    for _ in range(2):
        assert api.delete(PROFILE_API, {"password": "guess"}).status_code == 400
    assert api.delete(PROFILE_API, {"password": PASSWORD}).status_code == 204
    newcomer = make_user("alice", email="new-alice@example.com")
    assert newcomer.pk != patient.pk
    client = Client()
    wrong = {"username": "alice", "password": "wrong"}
    assert client.post(reverse("login"), wrong).status_code == 400
    right = {"username": "alice", "password": PASSWORD}
    assert client.post(reverse("login"), right).status_code == 302
