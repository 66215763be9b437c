"""A PreparedQuery gives what its queryset gives, with other values, compiled once."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from conftest import make_user
from core.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


def by_name(username: str):
    return (
        User.objects.with_roles()
        .annotate(joined_again=F("date_joined"))
        .filter(username=username, is_active=True)
    )


def test_same_rows_fields_types_and_annotations_as_the_orm(patient, doctor):
    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    for user in (patient, doctor):
        (got,) = prepared.fetch(username=user.username)
        (expected,) = by_name(user.username)
        assert got.pk == expected.pk
        assert got.username == expected.username
        assert got.date_joined == expected.date_joined
        assert isinstance(got.joined_again, datetime)  # the backend's converters ran
        assert got.joined_again == expected.joined_again
        assert got.group_names == expected.group_names
        assert got._state.adding is False
    assert prepared.fetch(username="nobody") == []


def test_compiled_once_then_only_the_query_runs(patient):
    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    prepared.fetch(username="alice")
    with CaptureQueriesContext(connection) as queries:
        (found,) = prepared.fetch(username="alice")
    assert found.pk == patient.pk
    assert len(queries) == 1


def test_inactive_users_are_filtered_as_in_the_orm(patient):
    make_user("gone", is_active=False)
    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    assert prepared.fetch(username="gone") == []


def test_a_sample_that_is_no_parameter_is_refused(patient):
    prepared = PreparedQuery(lambda **_: User.objects.all(), username="\x1fsample\x1f")
    with pytest.raises(ImproperlyConfigured):
        prepared.fetch(username="alice")


def test_equal_samples_are_refused(patient):
    prepared = PreparedQuery(
        lambda a, b: User.objects.filter(pk__in=[a, b]), a=-7_000_001, b=-7_000_001
    )
    with pytest.raises(ImproperlyConfigured):
        prepared.fetch(a=1, b=2)


@pytest.mark.django_db(transaction=True)
def test_another_connection_reuses_the_sql_with_its_own_converters(patient):
    """Under ASGI a request may run on a connection object of its own (another thread)."""
    import threading

    from django.db import connections

    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    prepared.fetch(username="alice")
    found = []

    def elsewhere() -> None:
        try:
            found.extend(prepared.fetch(username="alice"))
        finally:
            connections.close_all()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    (user,) = found
    assert user.pk == patient.pk
    assert isinstance(user.joined_again, datetime)
    assert len(prepared._compiled) == 1  # compiled once for the alias
