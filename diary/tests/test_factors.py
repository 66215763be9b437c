"""Factors (triggers) across the diary: the one normalisation rule, the form's chips, the API
field, and the digest's with-vs-without numbers on a hand-computed dataset.

Kept in one module (not spread over test_services/test_forms/test_api/test_digest) so the
feature's tests read together and merge without touching the other modules.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts import services as accounts
from conftest import token_client
from diary import services
from diary.digest import Period, build_digest
from diary.forms import PainEntryForm, RecordPainForm
from diary.models import PRESET_FACTORS, BodyPart, PainEntry

pytestmark = pytest.mark.django_db

STATS = "/api/diary/stats/"
DIGEST_API = "/api/diary/digest/"
HTMX = {"HTTP_HX_REQUEST": "true"}
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
JANUARY = Period(date(2026, 1, 1), date(2026, 1, 10))


def record(owner, part="knee-left", intensity=5, **extra) -> PainEntry:
    return services.record_pain(
        owner=owner,
        body_part=BodyPart.objects.get(name=part),
        pain_type=extra.pop("pain_type", "burning"),
        intensity=intensity,
        **extra,
    )


def link(patient, doctor):
    request = accounts.request_link(patient=patient, doctor=doctor)
    return accounts.change_link(link=request, by=doctor, status="active")


def raw(client, method, url, body: dict):
    return client.generic(method, url, json.dumps(body), content_type="application/json")


# --- the rule: services.normalise_factors ------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (None, []),
        ([], []),
        (["Poor  Sleep", " STRESS "], ["poor sleep", "stress"]),
        (["coffee", "Coffee", "poor sleep", "POOR SLEEP"], ["coffee", "poor sleep"]),
        (["  ", "", "Long drive"], ["Long drive"]),
        (["x" * 40], ["x" * 40]),
        ([f"f{n}" for n in range(8)], [f"f{n}" for n in range(8)]),
    ],
)
def test_normalise_factors(given, stored):
    assert services.normalise_factors(given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["x" * 41], "is too long: a factor is at most 40 characters."),
        ([f"f{n}" for n in range(9)], "At most 8 factors per entry (9 given)."),
        (["bad\x00byte"], "A factor cannot contain a NUL character."),
        ([3], "Each factor must be text."),
    ],
)
def test_bad_factors_are_refused_with_a_clear_message(given, message):
    with pytest.raises(ValidationError) as caught:
        services.normalise_factors(given)
    messages = caught.value.message_dict["factors"]
    assert len(messages) == 1
    assert messages[0].endswith(message)


def test_record_and_update_store_normalised_factors(patient):
    entry = record(patient, factors=["Stress", "cold feet", "stress"])
    entry.refresh_from_db()
    assert entry.factors == ["stress", "cold feet"]
    services.update_pain_entry(entry=entry, factors=["WEATHER"])
    entry.refresh_from_db()
    assert entry.factors == ["weather"]
    with pytest.raises(ValidationError):
        services.update_pain_entry(entry=entry, factors=["y" * 41], intensity=9)
    entry.refresh_from_db()
    assert (entry.factors, entry.intensity) == (["weather"], 5)


def test_several_parts_share_the_factors_and_bad_ones_store_nothing(patient):
    parts = list(BodyPart.objects.filter(name__in=["knee-left", "knee-right"]))
    entries = services.record_pain_in_parts(
        owner=patient, body_parts=parts, pain_type="burning", intensity=4, factors=["Lifting"]
    )
    assert [entry.factors for entry in entries] == [["lifting"], ["lifting"]]
    with pytest.raises(ValidationError):
        services.record_pain_in_parts(
            owner=patient, body_parts=parts, pain_type="burning", intensity=4, factors=["\x00"]
        )
    assert PainEntry.objects.count() == 2


def test_own_factors_are_the_patients_non_preset_ones_newest_first(patient, other_patient):
    now = timezone.now()
    record(patient, factors=["coffee", "stress"], date_recorded=now - timedelta(days=2))
    record(patient, factors=["long drive"], date_recorded=now - timedelta(days=1))
    record(other_patient, factors=["bob's secret"])
    assert PainEntry.objects.for_user(patient).used_factors() == ["long drive", "coffee"]


# --- the form: chips and "something else" ------------------------------------------------------


def form_data(**overrides):
    when = timezone.localtime() - timedelta(minutes=5)
    data = {
        "body_part": "knee-left",
        "pain_type": "stabbing",
        "intensity": "7",
        "date_recorded": when.strftime("%Y-%m-%dT%H:%M"),
        "description": "",
    }
    data.update(overrides)
    return data


def test_form_merges_chips_and_other_words_into_one_list():
    form = PainEntryForm(
        form_data(factors=["stress", "poor sleep"], factor_other="Cold, long drive,, STRESS")
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["factors"] == ["stress", "poor sleep", "Cold", "long drive"]
    assert "factor_other" not in form.cleaned_data


def test_form_shows_a_bad_factor_as_a_field_error():
    form = PainEntryForm(form_data(factor_other="z" * 41))
    assert not form.is_valid()
    assert "at most 40 characters" in form.errors["factors"][0]


def test_form_offers_presets_and_only_the_owners_own_factors(patient, other_patient):
    record(patient, factors=["coffee"])
    record(other_patient, factors=["bob's secret"])
    choices = [value for value, _ in RecordPainForm(owner=patient).fields["factors"].choices]
    assert choices == [*PRESET_FACTORS, "coffee"]
    edit = PainEntryForm(instance=PainEntry.objects.get(owner=patient))
    assert [value for value, _ in edit.fields["factors"].choices] == [*PRESET_FACTORS, "coffee"]
    assert edit.initial["factors"] == ["coffee"]


@pytest.fixture
def client_a(client, patient):
    client.force_login(patient)
    return client


def post_data(**overrides):
    data = form_data(body_part=["knee-left"], chosen_part=["knee-left"])
    data.update(overrides)
    return data


def test_page_form_has_chips_and_the_patients_own_factors(client_a, patient, other_patient):
    record(patient, factors=["coffee"])
    record(other_patient, factors=["bob's secret"])
    html = client_a.get(reverse("diary:entry-new"), {"part": "knee-left"}, **HTMX).content.decode()
    chips = re.findall(
        r'type="checkbox" class="btn-check" name="factors"[^>]*value="([^"]+)"', html
    )
    assert chips == [*PRESET_FACTORS, "coffee"]
    assert 'name="factor_other"' in html
    assert "secret" not in html


def test_saving_with_factors_without_javascript(client_a, patient):
    response = client_a.post(
        reverse("diary:entry-new"), post_data(factors=["poor sleep"], factor_other="coffee")
    )
    assert response.status_code == 302
    assert PainEntry.objects.get().factors == ["poor sleep", "coffee"]
    # The list shows them on the entry.
    html = client_a.get(reverse("diary:diary")).content.decode()
    assert re.search(
        r'<li class="factor-tag">poor sleep</li><li class="factor-tag">coffee</li>', html
    )


def test_a_bad_factor_is_an_inline_error_and_nothing_is_stored(client_a):
    response = client_a.post(
        reverse("diary:entry-new"), post_data(factors=["stress"], factor_other="q" * 41), **HTMX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "at most 40 characters" in html
    # What was chosen stays chosen.
    assert re.search(r'value="stress"[^>]*checked', html)
    assert not PainEntry.objects.exists()


def test_editing_an_entry_unticks_a_factor(client_a, patient):
    entry = record(
        patient, factors=["stress", "coffee"], date_recorded=timezone.now() - timedelta(hours=1)
    )
    url = reverse("diary:entry-edit", args=[entry.pk])
    html = client_a.get(url, **HTMX).content.decode()
    assert re.search(r'value="stress"[^>]*checked', html)
    assert re.search(r'value="coffee"[^>]*checked', html)
    data = form_data(
        date_recorded=timezone.localtime(entry.date_recorded).strftime("%Y-%m-%dT%H:%M"),
        factors=["coffee"],
    )
    assert client_a.post(url, data).status_code == 302
    entry.refresh_from_db()
    assert entry.factors == ["coffee"]


def test_nobody_edits_another_patients_factors(client, patient, other_patient):
    entry = record(patient, factors=["stress"])
    client.force_login(other_patient)
    url = reverse("diary:entry-edit", args=[entry.pk])
    assert client.post(url, form_data(factors=["hacked"])).status_code == 404
    entry.refresh_from_db()
    assert entry.factors == ["stress"]


# --- the API -----------------------------------------------------------------------------------


def test_api_post_patch_and_get_factors(patient_api, patient):
    created = raw(
        patient_api,
        "POST",
        STATS,
        {"body_part": 21, "pain_type": "burning", "intensity": 6, "factors": ["Stress", "cold"]},
    )
    assert created.status_code == 201
    assert created.json()["factors"] == ["stress", "cold"]
    pk = created.json()["id"]
    assert patient_api.get(STATS).json()[0]["factors"] == ["stress", "cold"]

    # A PATCH without factors leaves them; with them, replaces them; [] clears them.
    assert raw(patient_api, "PATCH", STATS, {"stat_pk": pk, "intensity": 7}).json()["factors"] == [
        "stress",
        "cold",
    ]
    patched = raw(patient_api, "PATCH", STATS, {"stat_pk": pk, "factors": ["weather"]})
    assert patched.status_code == 200
    assert patched.json()["factors"] == ["weather"]
    assert raw(patient_api, "PATCH", STATS, {"stat_pk": pk, "factors": []}).json()["factors"] == []
    assert PainEntry.objects.get().factors == []


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ("stress", "Expected a list of strings."),
        ({"a": 1}, "Expected a list of strings."),
        (None, "This field may not be null."),
        ([1], "Each factor must be text."),
        (["w" * 41], "“" + "w" * 40 + "…” is too long: a factor is at most 40 characters."),
        ([f"f{n}" for n in range(9)], "At most 8 factors per entry (9 given)."),
        (["a\x00b"], "A factor cannot contain a NUL character."),
    ],
)
def test_api_bad_factors_are_a_400_with_a_flat_message_list(patient_api, patient, factors, message):
    entry = record(patient, factors=["stress"])
    body = {"body_part": 21, "pain_type": "burning", "intensity": 6, "factors": factors}
    response = raw(patient_api, "POST", STATS, body)
    assert response.status_code == 400
    assert response.json() == {"factors": [message]}
    response = raw(patient_api, "PATCH", STATS, {"stat_pk": entry.pk, "factors": factors})
    assert response.status_code == 400
    assert response.json() == {"factors": [message]}
    assert PainEntry.objects.count() == 1
    entry.refresh_from_db()
    assert entry.factors == ["stress"]


def test_api_never_shows_or_changes_another_patients_factors(patient_api, patient, other_patient):
    theirs = record(other_patient, factors=["bob's secret"])
    record(patient, factors=["stress"])
    rows = patient_api.get(STATS).json()
    assert [row["factors"] for row in rows] == [["stress"]]
    response = raw(patient_api, "PATCH", STATS, {"stat_pk": theirs.pk, "factors": ["mine"]})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.factors == ["bob's secret"]
    assert patient_api.get(STATS, {"patient": "bob"}).status_code == 404


def test_a_change_of_factors_alone_changes_the_list_etag(patient_api, patient):
    entry = record(patient)
    first = patient_api.get(STATS)
    etag = first["ETag"]
    raw(patient_api, "PATCH", STATS, {"stat_pk": entry.pk, "factors": ["stress"]})
    again = patient_api.get(STATS, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert again["ETag"] != etag
    assert again.json()[0]["factors"] == ["stress"]


def test_schema_documents_factors_as_an_optional_list_of_strings():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for name in ("StatWriteRequest", "PatchedStatUpdateRequest", "StatUpdateRequest"):
        if name in components:
            field = components[name]["properties"]["factors"]
            assert field["type"] == "array"
            assert field["items"]["type"] == "string"
            assert "factors" not in components[name].get("required", [])
    assert components["Stat"]["properties"]["factors"]["type"] == "array"
    digest_factors = components["Digest"]["properties"]["factors"]
    assert digest_factors["type"] == "array"
    assert "factors" not in components["Digest"].get("required", [])


# --- the digest: pain with vs without each factor ----------------------------------------------


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=PARIS)


def add(owner, when: datetime, intensity: int, factors: list[str]) -> PainEntry:
    # Straight to the table: the dates lie in the past relative to the fixed period only.
    return PainEntry.objects.create(
        owner=owner,
        body_part=BodyPart.objects.get(name="knee-left"),
        pain_type="burning",
        intensity=intensity,
        date_recorded=when,
        factors=factors,
    )


@pytest.fixture
def factor_diary(patient, other_patient):
    """Alice's January, by hand:
    poor sleep: 6, 7, 5 (2 and 3 January)  -> 6.0; the other four 4, 2, 3, 5 -> 3.5
    stress:     7, 4, 5 (3, 5, 9 January)  -> 5.3; the other four 6, 5, 2, 3 -> 4.0
    weather:    3 once                     -> left out (fewer than 3 entries)
    """
    patient.timezone = "Europe/Paris"
    patient.save()
    add(patient, at(2, 9), 6, ["poor sleep"])
    add(patient, at(3, 8), 7, ["poor sleep", "stress"])
    add(patient, at(3, 20), 5, ["poor sleep"])
    add(patient, at(5, 12), 4, ["stress"])
    add(patient, at(6, 12), 2, [])
    add(patient, at(8, 12), 3, ["weather"])
    add(patient, at(9, 12), 5, ["stress"])
    # Outside the period, and someone else's: neither counts.
    add(patient, at(12, 12), 10, ["poor sleep"])
    for day in (2, 3, 4):
        add(other_patient, at(day, 12), 9, ["weather"])
    return patient


def test_digest_factor_numbers(factor_diary):
    digest = build_digest(patient=factor_diary, period=JANUARY)
    rows = [(f.factor, f.entries, f.days, f.mean_with, f.mean_without) for f in digest.factors]
    assert rows == [("poor sleep", 3, 2, 6.0, 3.5), ("stress", 3, 3, 5.3, 4.0)]
    assert digest.factors[0].sentence == (
        "On days with poor sleep your pain averaged 6.0, otherwise 3.5 (3 entries on 2 days)."
    )


def test_digest_factor_carried_by_every_entry_has_nothing_to_compare(patient):
    patient.timezone = "Europe/Paris"
    patient.save()
    for day, intensity in ((2, 4), (3, 6), (4, 8)):
        add(patient, at(day, 12), intensity, ["stress"])
    (factor,) = build_digest(patient=patient, period=JANUARY).factors
    assert (factor.mean_with, factor.mean_without) == (6.0, None)
    assert "nothing to compare with" in factor.sentence


def test_digest_api_and_pages_show_the_factors(factor_diary, client, doctor, other_patient):
    api = token_client(factor_diary)
    body = api.get(DIGEST_API, {"start": "2026-01-01", "end": "2026-01-10"}).json()
    assert [(f["factor"], f["mean_with"], f["mean_without"]) for f in body["factors"]] == [
        ("poor sleep", 6.0, 3.5),
        ("stress", 5.3, 4.0),
    ]
    sentence = "On days with stress your pain averaged 5.3, otherwise 4.0 (3 entries on 3 days)."
    assert body["factors"][1]["sentence"] == sentence

    query = "?start=2026-01-01&end=2026-01-10"
    client.force_login(factor_diary)
    assert sentence in client.get(reverse("diary:digest") + query).content.decode()

    link(factor_diary, doctor)
    client.force_login(doctor)
    page = client.get(reverse("diary:patient-digest", args=["alice"]) + query)
    assert sentence in page.content.decode()
    doctor_api = token_client(doctor)
    shared = doctor_api.get(
        DIGEST_API, {"patient": "alice", "start": "2026-01-01", "end": "2026-01-10"}
    )
    assert [f["factor"] for f in shared.json()["factors"]] == ["poor sleep", "stress"]

    # Bob's three "weather" entries are his alone: not in Alice's digest, and Alice's not in his.
    assert "weather" not in [f["factor"] for f in body["factors"]]
    bob = token_client(other_patient).get(DIGEST_API, {"start": "2026-01-01", "end": "2026-01-10"})
    assert [f["factor"] for f in bob.json()["factors"]] == ["weather"]
    assert bob.json()["factors"][0]["mean_without"] is None
    assert doctor_api.get(DIGEST_API, {"patient": "bob"}).status_code == 404


def test_digest_without_enough_factors_says_so(factor_diary, client):
    client.force_login(factor_diary)
    html = client.get(reverse("diary:digest") + "?start=2026-01-08&end=2026-01-10").content.decode()
    assert 'id="digest-factors-empty"' in html
