"""The signed-in user's roles and the header's badges come with the user, in one query
(accounts.backends, accounts.middleware.AuthenticationMiddleware), and the session from the
cache (core/sessions.py): what every page pays before its own work."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_user, page_queries
from messaging.tests.conftest import history

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_the_profile_page_costs_one_query(role):
    user = make_user("ann", role=role)
    client = Client()
    client.force_login(user)
    status, count = page_queries(client, "/accounts/profile/")
    assert status == 200
    assert count == 1  # the user with roles and badges


def test_the_header_shows_the_role_and_both_badges_from_one_query(patient):
    doctor = make_user("drwho", role="doctor")
    make_user("waiting")
    from accounts import services

    services.request_link(patient=patient, doctor=doctor)
    history(patient, doctor, "one")
    history(patient, doctor, "two")
    client = Client()
    client.force_login(doctor)
    status, count = page_queries(client, "/accounts/profile/")
    page = client.get("/accounts/profile/").content.decode()
    assert status == 200
    assert count == 1
    assert 'data-role="doctor"' in page
    assert 'data-unread="2"' in page
    assert 'id="pending-link-badge" aria-label="1 pending request"' in page


def test_a_role_change_shows_on_the_next_page(patient):
    from accounts import services

    client = Client()
    client.force_login(patient)
    assert 'data-role="patient"' in client.get("/accounts/profile/").content.decode()
    services.set_role(users=[patient], role="doctor")
    assert 'data-role="doctor"' in client.get("/accounts/profile/").content.decode()
