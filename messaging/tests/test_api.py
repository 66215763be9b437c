from __future__ import annotations

import pytest

from conftest import make_user, token_client
from messaging.models import Message
from messaging.tests.conftest import history

pytestmark = pytest.mark.django_db

CONVERSATIONS = "/api/chat/conversations/"


def url(peer: str) -> str:
    return f"/api/chat/conversations/{peer}/"


def delete_url(peer: str) -> str:
    return f"/api/chat/conversations/delete/{peer}/"


def send(sender, receiver, text="hi") -> Message:
    return history(sender, receiver, text)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", CONVERSATIONS),
        ("post", CONVERSATIONS),
        ("get", "/api/chat/conversations/drwho/"),
        ("delete", "/api/chat/conversations/delete/drwho/"),
    ],
)
def test_every_route_needs_a_token(api_client, doctor, method, path):
    response = getattr(api_client, method)(path)
    assert response.status_code == 401
    assert "error" in response.json()


def test_conversations_lists_peers_most_recent_first(patient, doctor, other_patient):
    send(doctor, patient)
    send(other_patient, patient)
    send(patient, doctor)
    stranger = make_user("stranger")
    send(stranger, other_patient)  # not alice's
    response = token_client(patient).get(CONVERSATIONS)
    assert response.status_code == 200
    assert response.json() == {"unique_peers": ["drwho", "bob"]}


def test_conversations_empty(patient):
    assert token_client(patient).get(CONVERSATIONS).json() == {"unique_peers": []}


def test_conversations_query_count_is_constant(patient, django_assert_max_num_queries):
    for i in range(6):
        send(make_user(f"p{i}"), patient)
    client = token_client(patient)
    with django_assert_max_num_queries(5):  # token + user + three for the list
        assert len(client.get(CONVERSATIONS).json()["unique_peers"]) == 6


def test_start_conversation_returns_urls(patient, doctor):
    response = token_client(patient).post(CONVERSATIONS, {"peer_username": "drwho"})
    assert response.status_code == 200
    assert response.json() == {
        "chat_url": "/api/chat/conversations/drwho/",
        "ws_url": "/ws/chat/drwho/",
    }


@pytest.mark.parametrize(
    "body", [{}, {"peer_username": ""}, {"peer_username": "  "}, {"peer_username": 5}]
)
def test_start_conversation_without_peer_is_400(patient, body):
    response = token_client(patient).post(CONVERSATIONS, body)
    assert response.status_code == 400
    assert "error" in response.json()


def test_start_conversation_with_unknown_user_is_404(patient):
    response = token_client(patient).post(CONVERSATIONS, {"peer_username": "ghost"})
    assert response.status_code == 404
    assert response.json() == {"error": "No user with that username."}


def test_start_conversation_with_yourself_is_400(patient):
    response = token_client(patient).post(CONVERSATIONS, {"peer_username": "alice"})
    assert response.status_code == 400
    assert response.json() == {"error": "You cannot chat with yourself."}


def test_history_is_every_message_oldest_first(patient, doctor, other_patient):
    first = send(patient, doctor, "one")
    second = send(doctor, patient, "two")
    send(other_patient, doctor, "not ours")
    response = token_client(patient).get(url("drwho"))
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": first.pk,
            "sender": "alice",
            "receiver": "drwho",
            "message": "one",
            "timestamp": first.timestamp.isoformat(),
        },
        {
            "id": second.pk,
            "sender": "drwho",
            "receiver": "alice",
            "message": "two",
            "timestamp": second.timestamp.isoformat(),
        },
    ]


def test_history_from_the_other_side_is_the_same(patient, doctor):
    send(patient, doctor, "one")
    send(doctor, patient, "two")
    texts = [m["message"] for m in token_client(doctor).get(url("alice")).json()]
    assert texts == ["one", "two"]


def test_history_query_count_is_constant(patient, doctor, django_assert_max_num_queries):
    for i in range(20):
        send(patient, doctor, str(i))
    client = token_client(patient)
    with django_assert_max_num_queries(4):
        assert len(client.get(url("drwho")).json()) == 20


def test_history_before_and_limit(patient, doctor):
    ids = [send(patient, doctor, str(i)).pk for i in range(10)]
    client = token_client(patient)
    page = client.get(url("drwho"), {"before": ids[7], "limit": 3}).json()
    assert [m["id"] for m in page] == ids[4:7]
    assert [m["id"] for m in client.get(url("drwho"), {"limit": 2}).json()] == ids[8:]
    assert [m["id"] for m in client.get(url("drwho"), {"before": ids[2]}).json()] == ids[:2]


@pytest.mark.parametrize(
    "params",
    [
        {"before": "x"},
        {"limit": "many"},
        {"limit": 0},
        {"limit": -1},
        {"before": 0},
        {"limit": 10**6},
    ],
)
def test_history_bad_paging_is_400(patient, doctor, params):
    response = token_client(patient).get(url("drwho"), params)
    assert response.status_code == 400


def test_history_unknown_peer_is_404(patient):
    response = token_client(patient).get(url("ghost"))
    assert response.status_code == 404
    assert response.json() == {"error": "No user with that username."}


def test_other_peoples_conversation_is_never_visible(patient, doctor, other_patient):
    send(other_patient, doctor, "secret")
    send(doctor, other_patient, "secret reply")
    # alice asking for her conversation with drwho sees none of bob's
    assert token_client(patient).get(url("drwho")).json() == []
    assert token_client(patient).get(url("bob")).json() == []
    assert token_client(patient).get(CONVERSATIONS).json() == {"unique_peers": []}


def test_usernames_with_punctuation_work(patient):
    odd = make_user("dr.who+x@y-z")
    send(patient, odd, "hi")
    response = token_client(patient).get(url("dr.who+x@y-z"))
    assert [m["receiver"] for m in response.json()] == ["dr.who+x@y-z"]


def test_unmatched_chat_paths_answer_json_404(patient):
    response = token_client(patient).get("/api/chat/conversations/a/b/c/")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


def test_delete_removes_both_directions_only(patient, doctor, other_patient):
    send(patient, doctor)
    send(doctor, patient)
    kept = send(other_patient, doctor)
    response = token_client(doctor).delete(delete_url("alice"))
    assert response.status_code == 204
    assert list(Message.objects.all()) == [kept]


def test_delete_unknown_peer_is_404(patient):
    response = token_client(patient).delete(delete_url("ghost"))
    assert response.status_code == 404
    assert "error" in response.json()


def test_schema_documents_every_chat_route(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/chat/conversations/",
        "/api/chat/conversations/{peer}/",
        "/api/chat/conversations/delete/{peer}/",
    ):
        assert path in schema


def test_start_conversation_takes_json_only(patient, doctor):
    response = token_client(patient).post(
        CONVERSATIONS, {"peer_username": "drwho"}, format="multipart"
    )
    assert response.status_code == 415
    assert "error" in response.json()


def test_starting_a_conversation_needs_a_link(patient, other_patient):
    house = make_user("house", role="doctor")
    for peer in ("house", "bob"):
        response = token_client(patient).post(CONVERSATIONS, {"peer_username": peer})
        assert response.status_code == 403
        assert "care link" in response.json()["error"]
    assert token_client(house).post(CONVERSATIONS, {"peer_username": "alice"}).status_code == 403


def test_after_the_link_ends_history_stays_readable_and_deletable(patient, doctor):
    from accounts import services as accounts
    from accounts.models import CareLink

    history(patient, doctor, "before the end")
    accounts.change_link(link=CareLink.objects.get(), by=doctor, status="ended")
    client = token_client(patient)
    assert client.post(CONVERSATIONS, {"peer_username": "drwho"}).status_code == 403
    got = client.get(url("drwho"))
    assert got.status_code == 200
    assert [m["message"] for m in got.json()] == ["before the end"]
    assert client.delete(delete_url("drwho")).status_code == 204
    assert not Message.objects.exists()
