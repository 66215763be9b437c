from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction

from conftest import make_user
from core.realtime import outbox
from messaging import services
from messaging.models import Message, pair_group, user_group
from messaging.tests.conftest import history, link

pytestmark = pytest.mark.django_db


def item(sender, receiver, text, client_id=None) -> services.NewMessage:
    return {"sender": sender, "receiver": receiver, "text": text, "client_id": client_id}


@pytest.fixture
def listen(monkeypatch):
    """Records what the services broadcast to the given groups; returns a drain function.

    The real channel layer is exercised by the consumer tests; here only what is pushed, where
    and when matters (a fake keeps these sync tests free of event-loop juggling on Redis).
    """
    pushed: list[tuple[str, dict]] = []
    monkeypatch.setattr(outbox, "broadcast", pushed.extend)

    def join(*groups: str):
        def drain() -> list[dict]:
            events = [event for group, event in pushed if group in groups]
            pushed.clear()
            return events

        return drain

    return join


def test_can_chat_is_anyone_but_yourself(patient, doctor):
    assert services.can_chat(patient, doctor)
    assert services.can_chat(doctor, patient)
    assert not services.can_chat(patient, patient)


def test_send_message_stores_trimmed_text(patient, doctor):
    message = services.send_message(sender=patient, receiver=doctor, text="  hello  ")
    assert Message.objects.get().text == "hello"
    assert message.sender == patient
    assert message.receiver == doctor
    assert message.read_at is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("x" * 5001, "longer than 5000"),
        ("a\x00b", "NUL"),
        ("\ud800", "Unicode"),
        (None, "must be text"),
        (42, "must be text"),
    ],
)
def test_send_message_refuses_bad_text(patient, doctor, text, error):
    with pytest.raises(services.MessageError, match=error):
        services.send_message(sender=patient, receiver=doctor, text=text)
    assert not Message.objects.exists()


def test_send_message_accepts_exactly_5000(patient, doctor):
    services.send_message(sender=patient, receiver=doctor, text="x" * 5000)
    assert len(Message.objects.get().text) == 5000


def test_send_message_to_yourself_is_refused(patient):
    with pytest.raises(services.MessageError):
        services.send_message(sender=patient, receiver=patient, text="hi")
    assert not Message.objects.exists()


def test_send_message_broadcasts_after_commit(
    patient, doctor, listen, django_capture_on_commit_callbacks
):
    drain = listen(pair_group(patient.pk, doctor.pk), user_group(doctor.pk))
    with django_capture_on_commit_callbacks() as callbacks:
        message = services.send_message(sender=patient, receiver=doctor, text="hi")
        assert drain() == []  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    events = drain()
    assert events[0] == {
        "type": "chat.message",
        "message": {
            "id": message.pk,
            "sender": "alice",
            "receiver": "drwho",
            "message": "hi",
            "timestamp": message.timestamp.isoformat(),
        },
        "sender_id": patient.pk,
        "receiver_id": doctor.pk,
    }
    assert events[1] == {"type": "inbox.changed"}
    assert len(events) == 2


def test_rolled_back_message_is_never_broadcast(
    patient, doctor, listen, django_capture_on_commit_callbacks
):
    from django.db import transaction

    drain = listen(pair_group(patient.pk, doctor.pk))

    def send_then_fail() -> None:
        with transaction.atomic():
            services.send_message(sender=patient, receiver=doctor, text="hi")
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        send_then_fail()
    assert callbacks == []
    assert drain() == []
    assert not Message.objects.exists()


def test_mark_read_marks_only_the_peers_messages_to_me(
    patient, doctor, other_patient, listen, django_capture_on_commit_callbacks
):
    to_me = services.send_message(sender=doctor, receiver=patient, text="1")
    later = services.send_message(sender=doctor, receiver=patient, text="2")
    mine = services.send_message(sender=patient, receiver=doctor, text="3")
    other = history(other_patient, patient, "4")  # two patients: stored before the rules
    drain = listen(pair_group(patient.pk, doctor.pk), user_group(patient.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.mark_read(reader=patient, peer=doctor, up_to_id=to_me.pk) == [to_me.pk]
    assert drain() == [
        {"type": "chat.read", "reader_id": patient.pk, "ids": [to_me.pk]},
        {"type": "inbox.changed"},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.mark_read(reader=patient, peer=doctor) == [later.pk]
        assert services.mark_read(reader=patient, peer=doctor) == []
    read = set(Message.objects.filter(read_at__isnull=False).values_list("pk", flat=True))
    assert read == {to_me.pk, later.pk}
    assert mine.pk not in read
    assert other.pk not in read


def test_delete_conversation_both_directions_only(
    patient, doctor, other_patient, listen, django_capture_on_commit_callbacks
):
    services.send_message(sender=doctor, receiver=patient, text="1")
    services.send_message(sender=patient, receiver=doctor, text="2")
    link(other_patient, doctor)
    kept = services.send_message(sender=other_patient, receiver=doctor, text="3")
    drain = listen(pair_group(patient.pk, doctor.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delete_conversation(user=patient, peer=doctor) == 2
    assert list(Message.objects.all()) == [kept]
    assert drain() == [{"type": "chat.cleared"}]


def test_message_data_shape(patient, doctor):
    message = services.send_message(sender=patient, receiver=doctor, text="hi")
    data = services.message_data(message)
    assert set(data) == {"id", "sender", "receiver", "message", "timestamp"}
    assert data["timestamp"].endswith("+00:00")


def test_send_messages_stores_in_order_and_pushes_after_commit(
    patient, doctor, other_patient, listen, django_capture_on_commit_callbacks
):
    link(other_patient, doctor)
    drain = listen(pair_group(patient.pk, doctor.pk), pair_group(other_patient.pk, doctor.pk))
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.send_messages(
            items=[
                item(patient, doctor, "a"),
                item(doctor, patient, "b"),
                item(other_patient, doctor, "c"),
            ]
        )
    messages = [s.message for s in sent]
    assert all(s.created for s in sent)
    assert [m.text for m in Message.objects.order_by("id")] == ["a", "b", "c"]
    assert [m.pk for m in messages] == sorted(m.pk for m in messages)
    assert [e["message"]["message"] for e in drain()] == ["a", "b", "c"]


def test_send_messages_is_all_or_nothing(patient, doctor, listen):
    drain = listen(pair_group(patient.pk, doctor.pk))
    with pytest.raises(services.MessageError):
        services.send_messages(items=[item(patient, doctor, "fine"), item(patient, doctor, "")])
    assert not Message.objects.exists()
    assert drain() == []


def test_sending_needs_an_active_link_or_two_doctors(patient, doctor, other_patient):
    with pytest.raises(services.MessageError, match="care link"):
        services.send_message(sender=patient, receiver=other_patient, text="hi")
    house = make_user("house", role="doctor")
    with pytest.raises(services.MessageError):
        services.send_message(sender=patient, receiver=house, text="hi")
    assert services.send_message(sender=doctor, receiver=house, text="colleague").pk
    assert not Message.objects.filter(receiver__in=[other_patient]).exists()


def test_a_batch_with_a_forbidden_pair_stores_nothing(patient, doctor, other_patient):
    with pytest.raises(services.MessageError):
        services.send_messages(
            items=[item(patient, doctor, "ok"), item(other_patient, doctor, "no")]
        )
    assert not Message.objects.exists()


def test_ended_link_closes_sending(patient, doctor):
    from accounts import services as accounts
    from accounts.models import CareLink

    services.send_message(sender=patient, receiver=doctor, text="before")
    accounts.change_link(link=CareLink.objects.get(), by=patient, status="ended")
    with pytest.raises(services.MessageError):
        services.send_message(sender=doctor, receiver=patient, text="after")
    assert list(Message.objects.values_list("text", flat=True)) == ["before"]


def test_delete_sent_messages_keeps_what_others_sent_and_tells_their_inboxes(
    patient, doctor, other_patient, listen, django_capture_on_commit_callbacks
):
    mine = [history(patient, doctor, "a"), history(patient, other_patient, "b")]
    kept = [history(doctor, patient, "c"), history(other_patient, doctor, "d")]
    drain = listen(user_group(doctor.pk), user_group(other_patient.pk), user_group(patient.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delete_sent_messages(sender=patient) == len(mine)
    assert list(Message.objects.all()) == kept
    assert drain() == [{"type": "inbox.changed"}] * 2


CLIENT_ID = uuid.UUID("0b6c8a52-5f0e-4c4a-9d0c-6f5f7a1e2b3c")


def test_a_resent_client_id_is_stored_once_and_pushed_once(
    patient, doctor, listen, django_capture_on_commit_callbacks
):
    drain = listen(pair_group(patient.pk, doctor.pk))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.send_messages(items=[item(patient, doctor, "hi", CLIENT_ID)])[0]
    with django_capture_on_commit_callbacks(execute=True):
        again = services.send_messages(items=[item(patient, doctor, " hi ", CLIENT_ID)])[0]
    assert first.created
    assert not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert len(drain()) == 1
    assert services.message_data(again.message)["client_id"] == str(CLIENT_ID)


def test_the_same_client_id_twice_in_one_batch_is_one_row(patient, doctor):
    sent = services.send_messages(
        items=[item(patient, doctor, "hi", CLIENT_ID), item(patient, doctor, "hi", CLIENT_ID)]
    )
    assert [s.created for s in sent] == [True, False]
    assert sent[0].message.pk == sent[1].message.pk
    assert Message.objects.count() == 1


def test_the_same_client_id_from_two_senders_is_two_messages(patient, doctor):
    services.send_message(sender=patient, receiver=doctor, text="a", client_id=CLIENT_ID)
    services.send_message(sender=doctor, receiver=patient, text="b", client_id=CLIENT_ID)
    assert Message.objects.count() == 2


@pytest.mark.parametrize("change", ["text", "peer"])
def test_a_client_id_reused_for_another_message_is_refused(patient, doctor, other_patient, change):
    link(other_patient, doctor)
    services.send_message(sender=doctor, receiver=patient, text="a", client_id=CLIENT_ID)
    receiver, text = (patient, "b") if change == "text" else (other_patient, "a")
    with pytest.raises(services.MessageError, match="already used"):
        services.send_message(sender=doctor, receiver=receiver, text=text, client_id=CLIENT_ID)
    assert Message.objects.count() == 1


def test_the_database_refuses_a_duplicate_client_id(patient, doctor):
    services.send_message(sender=patient, receiver=doctor, text="a", client_id=CLIENT_ID)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(sender=patient, receiver=doctor, text="a", client_id=CLIENT_ID)


@pytest.mark.parametrize("value", ["nope", 42, "0b6c8a52-5f0e-4c4a-9d0c-6f5f7a1e2b3c" + "0", ["x"]])
def test_clean_client_id_refuses_what_is_not_a_uuid(value):
    with pytest.raises(services.MessageError, match="UUID"):
        services.clean_client_id(value)


def test_clean_client_id_takes_none_and_uuid_text():
    assert services.clean_client_id(None) is None
    assert services.clean_client_id(str(CLIENT_ID)) == CLIENT_ID
