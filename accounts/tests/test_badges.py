"""accounts/badges.py: the header's counts, one query, each user's own, counted after the view."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import services
from accounts.badges import badges_for
from conftest import make_user
from messaging.tests.conftest import history, link

pytestmark = pytest.mark.django_db


def test_counts_are_the_users_own(patient, django_assert_num_queries):
    doctor = make_user("drwho", role="doctor")
    other_doctor = make_user("drno", role="doctor")
    services.request_link(patient=patient, doctor=doctor)
    history(doctor, patient, "for alice")
    history(patient, doctor, "for the doctor")
    history(patient, other_doctor, "for another doctor")
    history(patient, other_doctor, "and again")
    with django_assert_num_queries(1):
        counts = badges_for(doctor)
    assert (counts.unread, counts.pending_links) == (1, 1)
    patient_counts = badges_for(patient)
    assert (patient_counts.unread, patient_counts.pending_links) == (1, 0)
    assert (badges_for(other_doctor).unread, badges_for(other_doctor).pending_links) == (2, 0)


def test_the_badge_counts_after_the_page_marked_messages_read(patient):
    doctor = make_user("drwho", role="doctor")
    link(patient, doctor)
    history(doctor, patient, "one")
    history(doctor, patient, "two")
    client = Client()
    client.force_login(patient)
    assert 'data-unread="2"' in client.get("/diary/").content.decode()
    # The conversation marks both read before it renders: its header already says 0.
    assert 'data-unread="0"' in client.get(f"/chat/{doctor.username}/").content.decode()


def test_only_a_pages_user_load_carries_the_counts(patient, django_assert_num_queries):
    """The socket handshake and anything else loading a user through the backend pay no
    subqueries for a header they do not draw."""
    from accounts.backends import ModelBackend
    from accounts.badges import loading_page_user, request_badges

    doctor = make_user("drwho", role="doctor")
    history(doctor, patient, "one")
    assert not hasattr(ModelBackend().get_user(patient.pk), "_badge_unread")
    token = loading_page_user.set(True)
    try:
        with django_assert_num_queries(1):
            user = ModelBackend().get_user(patient.pk)
    finally:
        loading_page_user.reset(token)

    class Request:
        pass

    request = Request()
    request.user = user
    with django_assert_num_queries(0):
        assert request_badges(request).unread == 1


def test_the_conversation_badge_is_the_loaded_count_less_what_it_marked(patient):
    doctor = make_user("drwho", role="doctor")
    other = make_user("drno", role="doctor")
    link(patient, doctor)
    link(patient, other)
    history(doctor, patient, "one")
    history(doctor, patient, "two")
    history(other, patient, "from another doctor")
    client = Client()
    client.force_login(patient)
    assert 'data-unread="1"' in client.get(f"/chat/{doctor.username}/").content.decode()
