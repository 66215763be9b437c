from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_user
from messaging import services
from messaging.models import Message
from messaging.tests.conftest import history

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(sender, receiver, text="hi") -> Message:
    return history(sender, receiver, text)


@pytest.mark.parametrize("path", ["/chat/", "/chat/drwho/", "/chat/drwho/delete/"])
def test_pages_need_sign_in(client, doctor, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_empty_inbox(patient):
    response = signed_in(patient).get("/chat/")
    assert response.status_code == 200
    assert "No conversations yet — start one by username." in response.content.decode()


def test_inbox_rows_most_recent_first_with_preview_and_unread(patient, doctor, other_patient):
    send(doctor, patient, "from the doctor")
    send(other_patient, patient, "<i>bob 1</i>")
    send(other_patient, patient, "bob 2")
    send(patient, doctor, "my answer")
    html = signed_in(patient).get("/chat/").content.decode()
    assert html.index('data-peer="drwho"') < html.index('data-peer="bob"')
    assert "You: my answer" in html
    assert "bob 2" in html
    assert ">2</span>" in html  # bob's unread count
    assert "<i>bob 1</i>" not in html


def test_inbox_query_count_is_constant(patient, django_assert_max_num_queries):
    for i in range(8):
        send(make_user(f"p{i}"), patient)
    client = signed_in(patient)
    with django_assert_max_num_queries(8):
        assert client.get("/chat/").status_code == 200


def test_start_conversation_redirects_to_the_chat(patient, doctor):
    response = signed_in(patient).post("/chat/", {"username": "drwho"})
    assert response.status_code == 302
    assert response["Location"] == "/chat/drwho/"


@pytest.mark.parametrize(
    ("username", "error"),
    [("ghost", "There is no user called"), ("alice", "yourself"), ("", "required")],
)
def test_start_conversation_errors_inline(patient, username, error):
    response = signed_in(patient).post("/chat/", {"username": username})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert "is-invalid" in response.content.decode()


def test_chat_page_shows_messages_escaped_and_marks_read(patient, doctor):
    send(doctor, patient, "<script>alert(1)</script>")
    mine = send(patient, doctor, "mine")
    response = signed_in(patient).get("/chat/drwho/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'ws-connect="/ws/chat/drwho/?html=1"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "chat-message theirs" in html
    assert "chat-message mine" in html
    assert f'id="status-{mine.pk}"' in html
    assert not Message.objects.unread_for(patient).exists()
    assert Message.objects.unread_for(doctor).count() == 1  # the doctor has not looked yet


def test_chat_page_shows_latest_50_and_loads_older(patient, doctor):
    ids = [send(doctor, patient, f"m{i}").pk for i in range(60)]
    client = signed_in(patient)
    html = client.get("/chat/drwho/").content.decode()
    assert html.count('class="chat-message') == 50
    assert f'id="message-{ids[10]}"' in html
    assert f'id="message-{ids[9]}"' not in html
    assert f"?before={ids[10]}" in html
    older = client.get(f"/chat/drwho/older/?before={ids[10]}").content.decode()
    assert older.count('class="chat-message') == 10
    assert "Load older" not in older
    assert client.get("/chat/drwho/older/?before=x").status_code == 400


def test_chat_page_read_ticks(patient, doctor):
    read = send(patient, doctor, "read one")
    services.mark_read(reader=doctor, peer=patient)
    unread = send(patient, doctor, "unread one")
    html = signed_in(patient).get("/chat/drwho/").content.decode()
    assert f'id="status-{read.pk}" class="chat-status read"' in html
    assert f'id="status-{unread.pk}" class="chat-status"' in html


def test_chat_with_unknown_user_or_yourself_is_404(patient):
    client = signed_in(patient)
    assert client.get("/chat/ghost/").status_code == 404
    assert client.get("/chat/alice/").status_code == 404


def test_chat_page_in_the_users_time_zone(doctor):
    tokyo = make_user("tokyo", timezone="Asia/Tokyo")
    send(doctor, tokyo, "hi")
    assert "+09:00" in signed_in(tokyo).get("/chat/drwho/").content.decode()


def test_header_badge_shows_unread_count(patient, doctor):
    send(doctor, patient)
    send(doctor, patient)
    html = signed_in(patient).get("/accounts/profile/").content.decode()
    assert 'id="unread-badge"' in html
    assert 'data-unread="2"' in html
    assert 'ws-connect="/ws/inbox/"' in html


def test_delete_needs_confirmation(patient, doctor):
    send(doctor, patient)
    client = signed_in(patient)
    page = client.get("/chat/drwho/delete/")
    assert page.status_code == 200
    assert "All 1 message between you two will be deleted" in page.content.decode()
    assert Message.objects.count() == 1
    response = client.post("/chat/drwho/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/chat/"
    assert not Message.objects.exists()


def test_pages_have_no_inline_scripts_or_styles(patient, doctor):
    send(doctor, patient)
    client = signed_in(patient)
    for path in ("/chat/", "/chat/drwho/", "/chat/drwho/delete/"):
        html = client.get(path).content.decode()
        assert " style=" not in html
        assert "hx-on" not in html
        for tag in html.split("<script")[1:]:
            assert "nonce=" in tag.split(">")[0]


def test_chat_page_explains_why_sending_is_closed(patient, doctor):
    from accounts import services as accounts
    from accounts.models import CareLink

    send(patient, doctor, "before the end")
    accounts.change_link(link=CareLink.objects.get(), by=patient, status="ended")
    html = signed_in(patient).get("/chat/drwho/").content.decode()
    assert "before the end" in html  # the past conversation stays readable
    assert 'id="cannot-send"' in html
    assert "Sending is closed" in html
    assert "/ws/chat/" not in html  # no chat socket (the inbox socket stays)
    assert 'id="chat-form"' not in html
    assert "Ask drwho for a link" in html or "/accounts/doctors/?q=drwho" in html


def test_chat_page_has_a_composer_when_linked(patient, doctor):
    html = signed_in(patient).get("/chat/drwho/").content.decode()
    assert 'id="chat-form"' in html
    assert 'ws-connect="/ws/chat/drwho/?html=1"' in html


def test_inbox_start_refuses_an_unlinked_doctor(patient):
    make_user("house", role="doctor")
    response = signed_in(patient).post("/chat/", {"username": "house"})
    assert response.status_code == 400
    assert "care link" in response.content.decode()


# --- real names only between people who know each other (issue #10, finding 8) ---------------


def test_chat_page_of_a_stranger_shows_the_username_only(patient):
    make_user("carol", first_name="Carol", last_name="Secretname")
    page = signed_in(patient).get("/chat/carol/").content.decode()
    assert "carol" in page
    assert "Secretname" not in page


def test_chat_page_of_a_stranger_doctor_shows_the_username_only(other_patient):
    make_user("drsmith", role="doctor", first_name="Sam", last_name="Smithname")
    page = signed_in(other_patient).get("/chat/drsmith/").content.decode()
    assert "Ask drsmith for a link" in page
    assert "Smithname" not in page


def test_chat_page_shows_the_name_after_a_conversation(patient):
    carol = make_user("carol", first_name="Carol", last_name="Secretname")
    send(carol, patient, "hello")
    page = signed_in(patient).get("/chat/carol/").content.decode()
    assert "Carol Secretname" in page


@pytest.mark.parametrize("status", ["pending", "active", "declined", "ended"])
def test_chat_page_shows_the_name_with_a_care_link_in_any_status(other_patient, status):
    from accounts.models import CareLink

    drsmith = make_user("drsmith", role="doctor", first_name="Sam", last_name="Smithname")
    CareLink.objects.create(patient=other_patient, doctor=drsmith, status=status)
    page = signed_in(other_patient).get("/chat/drsmith/").content.decode()
    assert "Sam Smithname" in page
    # And the other way round: the doctor sees the patient's name.
    other_patient.first_name, other_patient.last_name = "Bobby", "Tables"
    other_patient.save()
    assert "Bobby Tables" in signed_in(drsmith).get("/chat/bob/").content.decode()


# --- the form without JavaScript: POST, redirect, never a URL (issue #11, bug 2) ------------


def test_chat_form_posts_and_never_gets(patient, doctor):
    html = signed_in(patient).get("/chat/drwho/").content.decode()
    form = html.split('<form id="chat-form"')[1].split(">")[0]
    assert 'method="post"' in form
    # The fragment brings an inline error into view on a phone (the reply to a refused POST).
    assert 'action="/chat/drwho/#chat-error"' in form
    assert "ws-send" in form  # with script, the socket still sends
    assert "csrfmiddlewaretoken" in html.split('<form id="chat-form"')[1].split("</form>")[0]


def test_posting_a_message_stores_it_and_redirects_back(patient, doctor):
    client = signed_in(patient)
    response = client.post("/chat/drwho/", {"message": "  my knee hurts  "})
    message = Message.objects.get()
    assert (message.sender, message.receiver, message.text) == (patient, doctor, "my knee hurts")
    assert response.status_code == 302
    assert response["Location"] == f"/chat/drwho/#message-{message.pk}"
    assert "knee" not in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert page.count("my knee hurts") == 1


def test_posting_ignores_a_forged_sender(patient, doctor, other_patient):
    signed_in(patient).post("/chat/drwho/", {"message": "hi", "sender": other_patient.pk})
    assert Message.objects.get().sender == patient


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"message": "   "}, "The message is empty."),
        ({}, "The message is empty."),
        ({"message": "x" * 5001}, "longer than 5000 characters"),
        ({"message": "a\x00b"}, "NUL characters"),
    ],
)
def test_posting_bad_text_is_a_400_with_the_error_inline(patient, doctor, data, error):
    response = signed_in(patient).post("/chat/drwho/", data)
    assert response.status_code == 400
    html = response.content.decode()
    alert = html.split('id="chat-error"')[1].split("</div>")[0]
    assert error in alert
    assert "d-none" not in html.split('id="chat-error"')[0].rsplit("<div", 1)[1]
    assert 'aria-invalid="true"' in html
    assert not Message.objects.exists()


def test_a_refused_message_stays_in_the_box(patient, doctor):
    html = signed_in(patient).post("/chat/drwho/", {"message": "x" * 5001}).content.decode()
    assert ">" + "x" * 5001 + "</textarea>" in html


@pytest.mark.parametrize("peer", ["house", "bob"])
def test_posting_to_an_unlinked_peer_is_refused(patient, other_patient, peer):
    make_user("house", role="doctor")
    response = signed_in(patient).post(f"/chat/{peer}/", {"message": "hello"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your message was not sent." in html
    assert "Sending is closed" in html
    assert not Message.objects.exists()


def test_posting_after_the_link_ended_is_refused(patient, doctor):
    from accounts import services as accounts
    from accounts.models import CareLink

    accounts.change_link(link=CareLink.objects.get(), by=patient, status="ended")
    response = signed_in(patient).post("/chat/drwho/", {"message": "hello"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_posting_to_yourself_or_nobody_is_404(patient):
    client = signed_in(patient)
    assert client.post("/chat/alice/", {"message": "hi"}).status_code == 404
    assert client.post("/chat/ghost/", {"message": "hi"}).status_code == 404
    assert not Message.objects.exists()


def test_posting_needs_sign_in(client, doctor):
    response = client.post("/chat/drwho/", {"message": "hi"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not Message.objects.exists()


def test_posting_needs_the_csrf_token(patient, doctor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)
    assert client.post("/chat/drwho/", {"message": "hi"}).status_code == 403
    assert not Message.objects.exists()
    page = client.get("/chat/drwho/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = client.post("/chat/drwho/", {"message": "hi", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Message.objects.count() == 1


def test_posting_is_rate_limited(patient, doctor, settings):
    settings.CHAT_RATE_BURST = 3
    client = signed_in(patient)
    for _ in range(3):
        assert client.post("/chat/drwho/", {"message": "hi"}).status_code == 302
    response = client.post("/chat/drwho/", {"message": "one too many"})
    assert response.status_code == 429
    assert "slow down" in response.content.decode()
    assert Message.objects.count() == 3


def test_put_is_not_allowed(patient, doctor):
    assert signed_in(patient).put("/chat/drwho/", "message=hi").status_code == 405


def test_the_composer_promises_enter_only_with_script(patient, doctor):
    """Without script Enter is a new line: the page's own placeholder does not say it sends
    (chat.js adds that hint)."""
    html = signed_in(patient).get("/chat/drwho/").content.decode()
    assert 'placeholder="Write a message…"' in html
    assert "Enter sends" not in html
