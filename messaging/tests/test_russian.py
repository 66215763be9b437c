"""The chat in Russian: its pages, the API's errors, and the sockets, where every person gets
fragments and error frames in their own language (a Russian and an English participant of the
same conversation each see their own words); machine fields never change."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import translation
from django.utils.formats import date_format

from accounts.models import User
from config.asgi import application
from conftest import SOCKET_TIMEOUT, token_client
from messaging.models import Message
from messaging.tests.conftest import history
from messaging.tests.test_consumers import (
    ORIGIN,
    cookie_for,
    html_socket,
    inbox_socket,
    json_socket,
    say,
    store,
)
from messaging.tests.test_views import signed_in

RU = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9,en;q=0.5"}


async def until(socket: WebsocketCommunicator, needle: str) -> str:
    """The next frame holding `needle` (read ticks and history may come before it)."""
    for _ in range(20):
        frame = await socket.receive_from()
        if needle in frame:
            return frame
    raise AssertionError(f"no frame with {needle!r}")


def speaks(user: User, language: str) -> User:
    user.language = language
    user.save(update_fields=["language"])
    return user


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_inbox_and_chat_pages_in_russian(patient, doctor):
    history(doctor, patient, "Как вы себя чувствуете?")
    client = signed_in(speaks(patient, "ru"))
    inbox = client.get("/chat/").content.decode()
    assert "<title>Чат" in inbox
    assert "Начать переписку" in inbox
    assert "Открыть чат" in inbox
    assert 'placeholder="Имя пользователя"' in inbox
    assert 'title="Непрочитанные сообщения"' in inbox
    chat = client.get("/chat/drwho/").content.decode()
    assert "Чат с drwho" in chat
    with translation.override("ru"):
        month = date_format(Message.objects.get().timestamp, "b")  # "дек", never "Дек"
    assert f" {month}, " in chat
    assert f" {month}, " in inbox
    assert 'placeholder="Напишите сообщение…"' in chat
    assert ">Отправить</button>" in chat
    assert 'aria-label="Назад ко всем перепискам"' in chat
    assert "Удалить<span" in chat
    assert "> переписку</span>" in chat
    assert 'placeholder="Write a message' not in chat


@pytest.mark.django_db
def test_the_page_follows_the_browser_for_a_person_who_chose_no_language(patient):
    client = signed_in(patient)
    page = client.get("/chat/", **RU).content.decode()
    assert "Переписок пока нет" in page
    assert "No conversations yet" not in page
    english = client.get("/chat/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No conversations yet" in english


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("count", "phrase"),
    [
        (1, "1 сообщение между вами будет удалено"),
        (2, "Все 2 сообщения между вами будут удалены"),
        (5, "Все 5 сообщений между вами будут удалены"),
    ],
)
def test_the_delete_confirmation_counts_in_russian(patient, doctor, count, phrase):
    for _ in range(count):
        history(doctor, patient)
    page = signed_in(speaks(patient, "ru")).get("/chat/drwho/delete/").content.decode()
    assert phrase in page
    assert ">Удалить переписку</button>" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("count", "phrase"), [(1, "(1 сообщение)"), (3, "(3 сообщения)"), (11, "(11 сообщений)")]
)
def test_the_deleted_message_counts_in_russian(patient, doctor, count, phrase):
    for _ in range(count):
        history(patient, doctor)
    client = signed_in(speaks(patient, "ru"))
    page = client.post("/chat/drwho/delete/", follow=True).content.decode()
    assert f"Переписка с drwho удалена {phrase}." in page


@pytest.mark.django_db
def test_form_errors_in_russian(patient, doctor, other_patient):
    client = signed_in(speaks(patient, "ru"))
    page = client.post("/chat/", {"username": "ghost"}).content.decode()
    assert "Пользователя «ghost» нет." in page
    page = client.post("/chat/", {"username": "alice"}).content.decode()
    assert "Нельзя начать переписку с самим собой." in page
    page = client.post("/chat/", {"username": "bob"}).content.decode()
    assert "Вы не можете написать «bob»: Писать можно только врачу" in page
    # A refused message sent without script: the page says why, in Russian.
    page = client.post("/chat/drwho/", {"message": "   "}).content.decode()
    assert "Сообщение пустое." in page


@pytest.mark.django_db
def test_sending_closed_in_russian(patient, other_patient):
    history(other_patient, patient)
    page = signed_in(speaks(patient, "ru")).get("/chat/bob/").content.decode()
    assert "Отправка закрыта: Писать можно только врачу" in page


# --- the token API ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_errors_follow_accept_language(patient, doctor):
    api = token_client(patient)
    missing = api.post("/api/chat/conversations/", {}, format="json", **RU)
    assert missing.status_code == 400
    assert missing.json() == {"error": "Нужно указать peer_username."}
    assert missing["Content-Language"] == "ru"
    nobody = api.post("/api/chat/conversations/", {"peer_username": "ghost"}, format="json", **RU)
    assert nobody.json() == {"error": "Пользователя с таким именем нет."}
    yourself = api.get("/api/chat/conversations/alice/", **RU)
    assert yourself.json() == {"error": "Нельзя переписываться с самим собой."}
    english = api.post("/api/chat/conversations/", {}, format="json")
    assert english.json() == {"error": "peer_username is required."}


@pytest.mark.django_db
def test_api_machine_fields_stay_english_in_russian(patient, doctor):
    history(doctor, patient, "привет")
    api = token_client(speaks(patient, "ru"))
    started = api.post("/api/chat/conversations/", {"peer_username": "drwho"}, format="json", **RU)
    assert set(started.json()) == {"chat_url", "ws_url"}
    rows = api.get("/api/chat/conversations/drwho/", **RU).json()
    assert set(rows[0]) == {"id", "sender", "receiver", "message", "timestamp"}
    assert rows[0]["message"] == "привет"


@pytest.mark.django_db
def test_core_api_errors_in_russian(patient):
    api = token_client(patient)
    bad_json = api.generic(
        "POST", "/api/chat/conversations/", "{", content_type="application/json", **RU
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["error"].startswith("Ошибка разбора JSON")
    nul = api.get("/api/chat/conversations/a%00b/", **RU)
    assert nul.status_code == 400
    assert nul.json() == {"error": "Адрес не может содержать символы NUL."}
    assert api.get("/api/chat/conversations/a%00b/").json() == {
        "error": "Addresses must not contain NUL characters."
    }
    page = signed_in(patient).get("/chat/a%00b/", **RU)
    assert page.content.decode() == "Адрес не может содержать символы NUL."


# --- the sockets -----------------------------------------------------------------------------


@database_sync_to_async
def set_language(user: User, language: str) -> User:
    return speaks(user, language)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_russian_and_an_english_participant_each_get_their_own_words(patient, doctor):
    russian = await set_language(patient, "ru")
    english = await set_language(doctor, "en")
    ru_socket = await html_socket(russian, "drwho")
    en_socket = await html_socket(english, "alice")
    # The Russian patient writes: both sockets render the same message, each in its language.
    await say(ru_socket, "Болит колено")
    mine = await ru_socket.receive_from()
    theirs = await en_socket.receive_from()
    assert "Болит колено" in mine
    assert "Болит колено" in theirs
    assert 'title="Отправлено"' in mine
    assert 'title="Sent"' not in mine
    message = await database_sync_to_async(Message.objects.get)()
    # The chat's stamp format is translated too ("7 дек, 08:42": a lowercase month, as Russian
    # writes it, where Django's untranslated "M" gives "Дек").
    with translation.override("ru"):
        russian_date = date_format(message.timestamp, translation.gettext("j M, H:i")).split(",")[0]
    with translation.override("en"):
        english_date = date_format(message.timestamp, translation.gettext("j M, H:i")).split(",")[0]
    # The read ticks the English doctor's open box causes reach the patient in Russian.
    ticks = await ru_socket.receive_from()
    assert 'title="Прочитано"' in ticks
    # The English doctor answers: the patient's fragment is Russian, the doctor's English.
    await say(en_socket, "Since when?")
    answer_ru = await ru_socket.receive_from()
    answer_en = await en_socket.receive_from()
    assert "Since when?" in answer_ru
    assert "Since when?" in answer_en
    assert 'title="Sent"' in answer_en
    assert "Отправлено" not in answer_en
    if russian_date != english_date:  # a month whose short names differ (all of them)
        assert russian_date.split()[-1] in mine
        assert english_date.split()[-1] in theirs
    # Errors: the same refusal, each in its own words.
    await say(ru_socket, "   ")
    assert "Сообщение пустое." in await until(ru_socket, "chat-error")
    await say(en_socket, "   ")
    error = await until(en_socket, "chat-error")
    assert "The message is empty." in error
    await ru_socket.disconnect()
    await en_socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_browser_socket_without_a_profile_language_follows_the_page(patient, doctor):
    """Nobody chose a language: the socket follows the handshake's cookie (the switcher's),
    then its Accept-Language, as the page it was opened from did."""
    cookie = await cookie_for(patient)
    by_cookie = WebsocketCommunicator(
        application,
        "/ws/chat/drwho/?html=1",
        headers=[ORIGIN, (b"cookie", cookie + b"; django_language=ru")],
    )
    assert (await by_cookie.connect(timeout=SOCKET_TIMEOUT))[0]
    by_header = WebsocketCommunicator(
        application,
        "/ws/chat/drwho/?html=1",
        headers=[ORIGIN, (b"cookie", cookie), (b"accept-language", b"ru-RU,ru;q=0.9")],
    )
    assert (await by_header.connect(timeout=SOCKET_TIMEOUT))[0]
    plain = await html_socket(patient, "drwho")
    await store(patient, doctor, "hi")
    assert 'title="Отправлено"' in await by_cookie.receive_from()
    assert 'title="Отправлено"' in await by_header.receive_from()
    assert 'title="Sent"' in await plain.receive_from()
    for socket in (by_cookie, by_header, plain):
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_json_error_frames_in_the_socket_users_language(patient, doctor):
    await set_language(patient, "ru")
    socket = await json_socket(patient, "drwho")
    await say(socket, "   ", client_id="4c0cf0a2-7b7e-4b8e-9a55-7d6b3a1e9f10")
    reply = await socket.receive_json_from()
    # The keys and the client_id are the protocol's; only the words change.
    assert reply == {
        "error": "Сообщение пустое.",
        "client_id": "4c0cf0a2-7b7e-4b8e-9a55-7d6b3a1e9f10",
    }
    await socket.send_to(text_data="not json")
    assert (await socket.receive_json_from())["error"].startswith("Кадры должны быть")
    await say(socket, "Добрый день")
    frame = await socket.receive_json_from()
    assert set(frame) == {"id", "sender", "receiver", "message", "timestamp"}
    await socket.disconnect()
    english = await json_socket(doctor, "alice")
    await english.send_to(text_data=json.dumps({"message": 5}))
    frame = json.loads(await until(english, '"error"'))
    assert frame == {"error": "The message must be text."}
    await english.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_inbox_socket_renders_in_its_users_language(patient, doctor):
    await set_language(patient, "ru")
    inbox = await inbox_socket(patient, "?list=1")
    assert "Переписок пока нет" in await inbox.receive_from()
    await store(doctor, patient, "новое")
    html = await inbox.receive_from()
    assert "новое" in html
    assert 'title="Непрочитанные сообщения"' in html
    await inbox.disconnect()
