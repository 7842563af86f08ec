"""Telegram channel end to end: the real Rasa server and action server, configured by
the project's credentials.yml, receiving Telegram updates on its webhook and
answering through a fake Telegram Bot API on 127.0.0.1 (TELEGRAM_API_URL).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time

import pytest
import requests

from channels.telegram import TelegramInput
from tests.channels.fake_api import (
    PROJECT_CREDENTIALS,
    REMINDER,
    FakeApi,
    channel_env,
    log_of,
    user_turns,
    wait_for_log,
)
from tests.conftest import GUARD_OFF, free_port, running_assistant

TOKEN = "7000000001:AAHfakefakefakefakefakefakefakefake"
BOT_ID = 7000000001
BOT_NAME = "SpineProcedureTestBot"
WEBHOOK_URL = "https://bot.clinic.example/webhooks/telegram/webhook"
SECRET = "s3cret_Token-for-webhooks"
SLOW_CHATS: set[int] = set()  # sendMessage to these takes SLOW_SEND_SECONDS (a slow Telegram)
SLOW_SEND_SECONDS = 8.0
UPDATE_IDS = itertools.count(random.randint(10_000_000, 90_000_000))


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def ok(result) -> tuple[int, dict]:
    return 200, {"ok": True, "result": result}


def bad_request(description: str) -> tuple[int, dict]:
    return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}


def telegram_responder(method: str, params: dict, headers: dict, path: str) -> tuple[int, dict]:
    """Answers like the Bot API, including the limits the connector must respect."""
    if not path.startswith(f"/bot{TOKEN}/"):
        return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
    if method == "getMe":
        return ok({"id": BOT_ID, "is_bot": True, "first_name": "Spine assistant", "username": BOT_NAME})
    if method == "setWebhook":
        if not str(params.get("url", "")).startswith("https://"):
            return bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        return 200, {"ok": True, "result": True, "description": "Webhook was set"}
    if method == "answerCallbackQuery":
        return ok(True) if params.get("callback_query_id") else bad_request("query is too old")
    if method == "sendMessage":
        text = params.get("text") or ""
        if not text.strip():
            return bad_request("message text is empty")
        if utf16(text) > 4096:
            return bad_request("message is too long")
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    return bad_request("BUTTON_DATA_INVALID")
        if params.get("chat_id") in SLOW_CHATS:
            time.sleep(SLOW_SEND_SECONDS)
        return ok({"message_id": random.randint(1, 10**6), "date": int(time.time()), "text": text,
                   "chat": {"id": params.get("chat_id"), "type": "private"},
                   "from": {"id": BOT_ID, "is_bot": True, "username": BOT_NAME}})
    return 404, {"ok": False, "error_code": 404, "description": "Not Found"}


def fake_telegram(port: int | None = None) -> FakeApi:
    return FakeApi(telegram_responder, lambda path: path.rsplit("/", 1)[-1], port=port)


def telegram_env(fake: FakeApi) -> dict:
    return channel_env(TELEGRAM_TOKEN=TOKEN, TELEGRAM_BOT_NAME=BOT_NAME,
                       TELEGRAM_WEBHOOK_URL=WEBHOOK_URL, TELEGRAM_SECRET_TOKEN=SECRET,
                       TELEGRAM_API_URL=fake.url)


@pytest.fixture(scope="module")
def telegram(tmp_path_factory):
    fake = fake_telegram().start()
    try:
        with running_assistant(tmp_path_factory.mktemp("telegram"), PROJECT_CREDENTIALS,
                               telegram_env(fake), guard=GUARD_OFF) as assistant:
            yield assistant, fake
    finally:
        fake.stop()


def new_chat() -> int:
    return random.randint(10**8, 10**9)


def patient(chat_id: int) -> dict:
    return {"id": chat_id, "is_bot": False, "first_name": "Pat", "language_code": "en"}


def text_update(chat_id: int, text: str) -> dict:
    """An Update as Telegram posts it for a text message in a private chat."""
    return {"update_id": next(UPDATE_IDS),
            "message": {"message_id": random.randint(1, 10**6), "from": patient(chat_id),
                        "chat": {"id": chat_id, "first_name": "Pat", "type": "private"},
                        "date": int(time.time()), "text": text}}


def post_update(assistant, update: dict, secret: str | None = SECRET) -> requests.Response:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    return requests.post(f"{assistant.url}/webhooks/telegram/webhook", json=update,
                         headers=headers, timeout=10)


def to_chat(chat_id: int, containing: str = ""):
    """Messages sent to `chat_id` (whose text contains `containing`)."""
    return lambda call: (call.params.get("chat_id") == chat_id
                         and containing in call.params.get("text", ""))


def test_the_webhook_is_registered_with_the_secret_token_at_startup(telegram):
    _, fake = telegram
    [registration] = fake.wait_for("setWebhook")
    assert registration.answer["ok"]
    assert registration.params["url"] == WEBHOOK_URL
    assert registration.params["secret_token"] == SECRET
    assert {"message", "callback_query"} <= set(registration.params["allowed_updates"])


def test_a_message_with_the_secret_gets_the_answer_and_telegram_an_immediate_200(telegram):
    assistant, fake = telegram
    chat = new_chat()
    SLOW_CHATS.add(chat)  # delivering the answer is slow: the webhook must not wait for it

    started = time.monotonic()
    answer = post_update(assistant, text_update(chat, "What are the risks of a discogram?"))
    elapsed = time.monotonic() - started

    assert answer.status_code == 200
    # Answered before the slow delivery could have ended: it did not wait for it.
    assert elapsed < SLOW_SEND_SECONDS, f"the webhook took {elapsed:.1f}s: Telegram would resend the update"
    sent = fake.wait_for("sendMessage", to_chat(chat, "Infection at the injection site"))[0]
    assert sent.answer["ok"], sent.answer
    assert sent.params["text"].startswith(
        "Lumbar discography (discogram), CPT 62290 — Risks and complications:")
    assert "• Infection at the injection site." in sent.params["text"]
    assert REMINDER in sent.params["text"]


def test_a_wrong_or_missing_secret_is_rejected_and_nothing_is_processed(telegram):
    assistant, fake = telegram
    chat = new_chat()
    update = text_update(chat, "What are the risks of a discogram?")
    assert post_update(assistant, update, secret="not-the-secret").status_code == 403
    assert post_update(assistant, update, secret=None).status_code == 403

    # A genuine update sent afterwards is answered: by then the rejected one would
    # have been too, had it been accepted.
    other = new_chat()
    post_update(assistant, text_update(other, "What are the risks of a discogram?"))
    fake.wait_for("sendMessage", to_chat(other))
    assert fake.calls_to("sendMessage", to_chat(chat)) == []
    assert user_turns(assistant, str(chat)) == []


def test_buttons_are_an_inline_keyboard_and_a_press_is_answered(telegram):
    assistant, fake = telegram
    chat = new_chat()
    post_update(assistant, text_update(chat, "how long does it take?"))
    question = fake.wait_for("sendMessage", to_chat(chat, "Which procedure"))[0]
    assert question.answer["ok"], question.answer  # e.g. BUTTON_DATA_INVALID
    assert question.params["text"] == "Which procedure would you like to know about (how long it takes)?"
    keyboard = question.params["reply_markup"]["inline_keyboard"]
    buttons = {row[0]["text"]: row[0] for row in keyboard}
    assert len(buttons) == 5
    button = buttons["Interspinous spacer, second level (lumbar)"]

    # The patient presses it: Telegram posts a callback_query with the button's data.
    press = {"update_id": next(UPDATE_IDS), "callback_query": {
        "id": f"cbq-{chat}", "from": patient(chat), "chat_instance": "-5550001",
        "data": button["callback_data"],
        "message": {"message_id": question.answer["result"]["message_id"],
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Spine assistant",
                             "username": BOT_NAME},
                    "chat": {"id": chat, "first_name": "Pat", "type": "private"},
                    "date": int(time.time()), "text": question.params["text"],
                    "reply_markup": question.params["reply_markup"]}}}
    assert post_update(assistant, press).status_code == 200

    [acknowledged] = fake.wait_for("answerCallbackQuery",
                                   lambda call: call.params.get("callback_query_id") == f"cbq-{chat}")
    answer = fake.wait_for("sendMessage", to_chat(chat, "Typically takes"))[0]
    text = answer.params["text"]
    assert text.startswith("Interspinous spacer, second level (lumbar), CPT +22870 — How long it takes:")
    assert "Typically takes about 1 to 2 hours." in text
    assert acknowledged.at <= answer.at  # the spinner on the button stops first


def test_the_start_command_gets_the_introduction(telegram):
    """Telegram sends /start (or /start@<bot> in a group) when a patient opens the bot."""
    assistant, fake = telegram
    for command in ("/start", f"/start@{BOT_NAME}"):
        chat = new_chat()
        post_update(assistant, text_update(chat, command))
        first = fake.wait_for("sendMessage", to_chat(chat))[0]
        assert "patient-education assistant" in first.params["text"], first.params["text"]


def test_a_photo_gets_a_polite_text_only_reply(telegram):
    assistant, fake = telegram
    chat = new_chat()
    update = text_update(chat, "")
    del update["message"]["text"]
    update["message"]["photo"] = [{"file_id": "AgACAgQAAxkBAAIB", "file_unique_id": "AQADsq0x",
                                   "width": 90, "height": 67, "file_size": 1254}]
    assert post_update(assistant, update).status_code == 200
    fake.wait_for("sendMessage", to_chat(chat, "only read text"))
    assert user_turns(assistant, str(chat)) == []

    # The conversation goes on normally.
    post_update(assistant, text_update(chat, "What are the risks of a discogram?"))
    fake.wait_for("sendMessage", to_chat(chat, "• Infection at the injection site."))


def test_an_update_sent_twice_is_answered_once(telegram):
    assistant, fake = telegram
    chat = new_chat()
    update = text_update(chat, "What are the risks of a discogram?")
    assert post_update(assistant, update).status_code == 200
    assert post_update(assistant, update).status_code == 200  # Telegram resending it
    post_update(assistant, text_update(chat, "and how long does it take?"))
    [next_answer] = fake.wait_for("sendMessage", to_chat(chat, "How long it takes:"))
    time.sleep(1)  # room for a late second answer to show up
    [answer] = fake.calls_to("sendMessage", to_chat(chat, "Risks and complications:"))
    assert answer.at < next_answer.at
    assert user_turns(assistant, str(chat)) == ["What are the risks of a discogram?",
                                                "and how long does it take?"]


def test_telegram_unreachable_at_startup_the_server_serves_and_registers_later(tmp_path):
    fake = fake_telegram(port=free_port())  # nothing listens there yet
    try:
        with running_assistant(tmp_path, PROJECT_CREDENTIALS, telegram_env(fake), guard=GUARD_OFF) as assistant:
            # The server is up and every other channel works.
            replies = assistant.send("patient-rest", "What are the risks of a discogram?")
            assert "• Infection at the injection site." in replies[0]["text"]
            wait_for_log(assistant, "Cannot reach Telegram")
            health = requests.get(f"{assistant.url}/webhooks/telegram/", timeout=10).json()
            assert health["webhook_registered"] is False

            fake.start()  # Telegram is back
            [registration] = fake.wait_for("setWebhook", timeout=90)
            assert registration.params["url"] == WEBHOOK_URL
            assert registration.params["secret_token"] == SECRET
            wait_for_log(assistant, "Telegram webhook registered")
            assert requests.get(f"{assistant.url}/webhooks/telegram/", timeout=10).json()[
                "webhook_registered"] is True

            chat = new_chat()
            post_update(assistant, text_update(chat, "What are the risks of a discogram?"))
            fake.wait_for("sendMessage", to_chat(chat, "• Infection at the injection site."))
            assert log_of(assistant).count("Cannot reach Telegram") >= 1
    finally:
        fake.stop()


class NoGuard:
    """Collects the messages the channel hands on: this test is about Telegram's side only
    (the guard needs the Rasa server, and is tested through it in tests/test_never_silent.py)."""

    def __init__(self, received):
        self.received = received

    async def handle(self, message, address=None):
        self.received.append(message.text)


def test_long_texts_are_split_and_long_button_payloads_fit_in_callback_data():
    """The output channel against the fake Bot API, without the assistant: no answer of
    the knowledge base is this long, but a document added later may be."""
    fake = fake_telegram().start()
    chat = new_chat()
    paragraphs = [f"Paragraph {i}: " + "word " * 180 for i in range(12)]  # ~11,000 characters
    long_text = "\n\n".join(paragraphs) + "\n\n" + "😀" * 3000  # emoji count twice for Telegram
    long_payload = '/ask_risks{"procedure": "62290", "note": "' + "x" * 80 + '"}'
    buttons = [{"title": "Risks", "payload": long_payload},
               {"title": "Recovery", "payload": '/ask_recovery{"procedure": "62290"}'}]
    received = []

    async def scenario():
        channel = TelegramInput(TOKEN, BOT_NAME, WEBHOOK_URL, SECRET, api_url=fake.url)
        channel.guard = NoGuard(received)
        output = channel.get_output_channel()
        await output.send_text_with_buttons(str(chat), long_text, buttons)
        sent = fake.calls_to("sendMessage", to_chat(chat))
        keyboard = sent[-1].params["reply_markup"]["inline_keyboard"]
        press = {"id": "cbq-long", "from": patient(chat), "data": keyboard[0][0]["callback_data"],
                 "message": {"message_id": 1, "chat": {"id": chat, "type": "private"},
                             "reply_markup": sent[-1].params["reply_markup"]}}
        await channel.handle_update({"update_id": 1, "callback_query": press})
        # After a restart the mapping of long payloads is gone: the button's label is used.
        restarted = TelegramInput(TOKEN, BOT_NAME, WEBHOOK_URL, SECRET, api_url=fake.url)
        restarted.guard = NoGuard(received)
        await restarted.handle_update({"update_id": 2, "callback_query": press})
        await channel.api.close()
        await restarted.api.close()
        return sent, keyboard

    try:
        sent, keyboard = asyncio.run(scenario())
    finally:
        fake.stop()
    assert all(call.answer["ok"] for call in sent), [call.answer for call in sent]
    assert len(sent) >= 4 and all(utf16(call.params["text"]) <= 4096 for call in sent)
    assert "".join(call.params["text"] for call in sent).replace("\n", "").replace(" ", "") == \
        long_text.replace("\n", "").replace(" ", "")
    assert "reply_markup" not in sent[0].params  # the keyboard comes with the last part
    assert keyboard[1][0]["callback_data"] == '/ask_recovery{"procedure": "62290"}'
    assert received == [long_payload, "Risks"]
    assert len(fake.calls_to("answerCallbackQuery")) == 2


def test_the_channel_reads_its_settings_and_stays_off_when_half_configured():
    assert not TelegramInput.from_credentials({"access_token": ""}).enabled
    half = TelegramInput.from_credentials({"access_token": TOKEN, "webhook_url": WEBHOOK_URL})
    assert not half.enabled and "TELEGRAM_SECRET_TOKEN is not set" in half.off_reason
    bad_secret = TelegramInput.from_credentials(
        {"access_token": TOKEN, "webhook_url": WEBHOOK_URL, "secret_token": "has spaces!"})
    assert not bad_secret.enabled
    assert TelegramInput.from_credentials(
        {"access_token": TOKEN, "webhook_url": WEBHOOK_URL, "secret_token": SECRET}).enabled
