"""Where a person lands: a patient on the diary, a doctor on My patients (issue #11, "Land where
the work is"); a `?next=` still wins, and a user with no role gets a page that says so."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

DIARY = reverse("diary:diary")
PATIENTS = reverse("diary:patients")


def sign_in(client, username: str, **query: str):
    url = reverse("login")
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return client.post(url, {"username": username, "password": PASSWORD})


def test_a_patient_lands_on_the_diary(client, patient):
    response = sign_in(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == DIARY
    assert client.get(response["Location"]).status_code == 200


def test_a_doctor_lands_on_my_patients(client, doctor):
    response = sign_in(client, "drwho")
    assert response.status_code == 302
    assert response["Location"] == PATIENTS
    assert client.get(response["Location"]).status_code == 200


def test_a_user_with_no_role_lands_on_a_page_that_says_so(client, patient):
    patient.groups.clear()
    response = sign_in(client, "alice")
    assert response["Location"] == reverse("home")
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="no-role"' in html
    assert "no role yet" in html
    assert "Hello," not in html
    assert reverse("api-docs") not in html  # developer material lives on the profile


@pytest.mark.parametrize("who", ["alice", "drwho"])
def test_next_wins_over_the_role_landing(client, patient, doctor, who):
    response = sign_in(client, who, next=reverse("profile"))
    assert response["Location"] == reverse("profile")


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/diary/"])
def test_an_unsafe_next_falls_back_to_the_landing(client, patient, unsafe):
    response = sign_in(client, "alice", next=unsafe)
    assert response["Location"] == DIARY


def test_home_sends_a_signed_in_person_to_their_work(client, patient, doctor):
    client.force_login(patient)
    assert client.get("/")["Location"] == DIARY
    client.force_login(doctor)
    assert client.get("/")["Location"] == PATIENTS


def test_an_already_signed_in_doctor_opening_sign_in_lands_on_my_patients(client, doctor):
    client.force_login(doctor)
    assert client.get(reverse("login"))["Location"] == PATIENTS


def test_a_doctor_opening_the_diary_is_taken_to_my_patients(client, patient, doctor):
    client.force_login(doctor)
    response = client.get(DIARY)
    assert response.status_code == 302
    assert response["Location"] == PATIENTS
    client.force_login(patient)
    assert client.get(DIARY).status_code == 200


def test_registering_lands_on_the_diary_with_the_welcome(client):
    response = client.post(
        reverse("register"),
        {
            "username": "carol",
            "email": "carol@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        follow=True,
    )
    assert [url for url, _ in response.redirect_chain] == [reverse("home"), DIARY]
    assert "Welcome to Painmap, carol!" in response.content.decode()


def test_the_anonymous_home_explains_and_offers_sign_in_and_register(client):
    html = client.get("/").content.decode()
    assert "pain diary" in html
    assert 'id="welcome-points"' in html
    assert f'href="{reverse("register")}"' in html
    assert f'href="{reverse("login")}"' in html
    assert reverse("api-docs") not in html  # no Swagger link in the footer any more


def test_developer_access_is_one_card_on_the_profile(client, patient):
    client.force_login(patient)
    html = client.get(reverse("profile")).content.decode()
    assert 'id="developer-access"' in html
    card = html[html.index('id="developer-access"') :]
    assert f'href="{reverse("api-docs")}"' in card
    assert "/api/auth/login/" in card
    assert "Authorization: Token" in card
    assert html.count(reverse("api-docs")) == 1  # and nowhere else on the page
