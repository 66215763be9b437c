from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from conftest import make_user
from messaging.models import Message, conversations_for, pair_group, user_group

pytestmark = pytest.mark.django_db


def test_cannot_message_yourself_in_the_database(patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(sender=patient, receiver=patient, text="me")


def test_empty_text_is_refused_by_the_database(patient, doctor):
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(sender=patient, receiver=doctor, text="")


def test_between_is_both_directions_and_nobody_else(patient, doctor, other_patient):
    a = Message.objects.create(sender=patient, receiver=doctor, text="1")
    b = Message.objects.create(sender=doctor, receiver=patient, text="2")
    Message.objects.create(sender=other_patient, receiver=doctor, text="3")
    assert list(Message.objects.between(patient, doctor).chronological()) == [a, b]


def test_unread_for(patient, doctor):
    Message.objects.create(sender=patient, receiver=doctor, text="1")
    read = Message.objects.create(sender=patient, receiver=doctor, text="2")
    Message.objects.filter(pk=read.pk).update(read_at="2026-01-01T00:00Z")
    assert Message.objects.unread_for(doctor).count() == 1
    assert Message.objects.unread_for(patient).count() == 0


def test_group_names_do_not_depend_on_order():
    assert pair_group(7, 3) == pair_group(3, 7) == "chat.3.7"
    assert user_group(5) == "user.5"


def test_conversations_most_recent_first_with_unread(patient, doctor, other_patient):
    Message.objects.create(sender=doctor, receiver=patient, text="old")
    Message.objects.create(sender=other_patient, receiver=patient, text="b1")
    Message.objects.create(sender=other_patient, receiver=patient, text="b2")
    Message.objects.create(sender=patient, receiver=doctor, text="newest")
    rows = conversations_for(patient)
    assert [r["peer_user"] for r in rows] == [doctor, other_patient]
    assert [r["last"].text for r in rows] == ["newest", "b2"]
    assert [r["unread"] for r in rows] == [1, 2]


def test_conversations_run_a_constant_number_of_queries(patient, django_assert_max_num_queries):
    for i in range(5):
        peer = make_user(f"peer{i}")
        Message.objects.create(sender=peer, receiver=patient, text="hi")
        Message.objects.create(sender=patient, receiver=peer, text="yo")
    with django_assert_max_num_queries(3):
        rows = conversations_for(patient)
        assert [r["peer_user"].username for r in rows] == [f"peer{i}" for i in range(4, -1, -1)]
