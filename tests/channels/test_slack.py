"""Slack channel end to end: the real Rasa server and action server, configured by the
project's credentials.yml, receiving signed Slack requests and answering through a
fake Slack Web API on 127.0.0.1 (SLACK_API_URL).

Also: with no channel variables set, the server runs and REST answers (Slack and
Telegram off).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode

import pytest
import requests

from tests.channels.fake_api import (
    PROJECT_CREDENTIALS,
    REMINDER,
    FakeApi,
    channel_env,
    log_of,
    user_turns,
)
from tests.conftest import GUARD_OFF, running_assistant

BOT_TOKEN = "xoxb-1111-2222-fake"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER = "UBOT00001"


def slack_responder(method: str, params: dict, headers: dict, path: str) -> tuple[int, dict]:
    """Answers like the Slack Web API does for a bot token of an app created today."""
    if headers.get("authorization") != f"Bearer {BOT_TOKEN}":
        return 200, {"ok": False, "error": "invalid_auth"}
    if method != "chat.postMessage":
        return 200, {"ok": False, "error": "unknown_method"}
    if "as_user" in params:  # refused for new Slack apps
        return 200, {"ok": False, "error": "invalid_arguments"}
    if not params.get("channel") or not (params.get("text") or params.get("blocks")):
        return 200, {"ok": False, "error": "no_text"}
    return 200, {"ok": True, "channel": params["channel"], "ts": f"{time.time():.6f}",
                 "message": {"text": params.get("text", ""), "bot_id": "B0001"}}


@pytest.fixture(scope="module")
def slack(tmp_path_factory):
    fake = FakeApi(slack_responder, lambda path: path.rsplit("/", 1)[-1].split("?")[0]).start()
    env = channel_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                      SLACK_API_URL=f"{fake.url}/api/")
    try:
        with running_assistant(tmp_path_factory.mktemp("slack"), PROJECT_CREDENTIALS, env,
                               guard=GUARD_OFF) as assistant:
            yield assistant, fake
    finally:
        fake.stop()


def signed(body: bytes, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def click(assistant, user: str, channel: str, post, button: dict, block_id: str = "b") -> requests.Response:
    """The patient clicks `button` of the bot's message `post` (a fake Web API call):
    Slack posts a signed, form-encoded block_actions payload."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "patient", "name": "patient", "team_id": "T0001"},
        "api_app_id": "A0001", "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": post.answer["ts"],
                      "channel_id": channel, "is_ephemeral": False},
        "trigger_id": "1111.2222.abcd", "team": {"id": "T0001", "domain": "clinic"},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"bot_id": "B0001", "type": "message", "user": BOT_USER,
                    "ts": post.answer["ts"], "text": post.params["text"],
                    "blocks": post.params["blocks"]},
        "state": {"values": {}}, "response_url": "https://hooks.slack.com/actions/T0001/1/x",
        "actions": [{"action_id": button["action_id"], "block_id": block_id,
                     "text": button["text"], "value": button["value"], "type": "button",
                     "action_ts": f"{time.time():.6f}"}],
    }
    form = urlencode({"payload": json.dumps(payload)}).encode()
    return requests.post(f"{assistant.url}/webhooks/slack/webhook", data=form, timeout=10,
                         headers={"Content-Type": "application/x-www-form-urlencoded", **signed(form)})


def new_ids() -> tuple[str, str]:
    """A patient (Slack user id) and the direct-message channel with the app."""
    suffix = uuid.uuid4().hex[:8].upper()
    return f"U{suffix}", f"D{suffix}"


def message_event(user: str, channel: str, text: str, event_id: str | None = None) -> bytes:
    """An Events API `event_callback` for a direct message to the app, as Slack sends it."""
    ts = f"{time.time():.6f}"
    return json.dumps({
        "token": "legacy-verification-token", "team_id": "T0001", "api_app_id": "A0001",
        "event": {"client_msg_id": str(uuid.uuid4()), "type": "message", "text": text,
                  "user": user, "ts": ts, "team": "T0001", "channel": channel,
                  "event_ts": ts, "channel_type": "im"},
        "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": "T0001", "user_id": BOT_USER,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }).encode()


def post_event(assistant, body: bytes, headers: dict | None = None) -> requests.Response:
    return requests.post(f"{assistant.url}/webhooks/slack/webhook", data=body, timeout=10,
                         headers={"Content-Type": "application/json", **(headers or {})})


def posts_to(channel: str, containing: str = ""):
    """Messages posted to `channel` (whose text contains `containing`)."""
    return lambda call: (call.params.get("channel") == channel
                         and containing in call.params.get("text", ""))


def test_a_signed_direct_message_gets_the_answer_posted_in_the_conversation(slack):
    assistant, fake = slack
    user, channel = new_ids()
    body = message_event(user, channel, "what are the risks of a discogram?")

    answer = post_event(assistant, body, signed(body))

    assert answer.status_code == 200
    post = fake.wait_for("chat.postMessage", posts_to(channel, "Infection at the injection site"))[0]
    assert post.answer["ok"], post.answer  # e.g. "invalid_arguments" if sent with as_user
    assert post.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    text = post.params["text"]
    assert text.startswith("Lumbar discography (discogram), CPT 62290 — Risks and complications:")
    assert "• Infection at the injection site." in text
    assert REMINDER in text  # one Slack message for the whole answer, not one per paragraph
    assert user_turns(assistant, user) == ["what are the risks of a discogram?"]


def test_buttons_are_interactive_and_a_click_is_answered(slack):
    assistant, fake = slack
    user, channel = new_ids()
    body = message_event(user, channel, "how long does it take?")
    assert post_event(assistant, body, signed(body)).status_code == 200

    question = fake.wait_for("chat.postMessage", posts_to(channel, "Which procedure"))[0]
    section, actions = question.params["blocks"]
    assert section["text"]["text"] == "Which procedure would you like to know about (how long it takes)?"
    buttons = {b["text"]["text"]: b for b in actions["elements"]}
    assert actions["type"] == "actions" and len(buttons) == 5
    assert all(b["type"] == "button" for b in buttons.values())
    button = buttons["Interspinous spacer, second level (lumbar)"]

    # The patient clicks it: Slack posts a signed, form-encoded block_actions payload.
    answer = click(assistant, user, channel, question, button, actions.get("block_id", "b"))
    assert answer.status_code == 200

    answer = fake.wait_for("chat.postMessage", posts_to(channel, "Typically takes"))[0]
    text = answer.params["text"]
    assert text.startswith("Interspinous spacer, second level (lumbar), CPT +22870 — How long it takes:")
    assert "Typically takes about 1 to 2 hours." in text


def test_more_than_five_buttons_are_all_shown(slack):
    """"Tell me about X" offers a button per section (Rasa's SlackBot drops them all above 5)."""
    assistant, fake = slack
    user, channel = new_ids()
    body = message_event(user, channel, "tell me about the Racz procedure")
    post_event(assistant, body, signed(body))
    summary = fake.wait_for("chat.postMessage", posts_to(channel, "What it is:"))[0]
    assert summary.answer["ok"], summary.answer
    titles = [element["text"]["text"] for block in summary.params["blocks"]
              if block["type"] == "actions" for element in block["elements"]]
    assert len(titles) > 5 and "Risks and complications" in titles


def test_forged_stale_or_unsigned_requests_are_rejected_and_nothing_is_processed(slack):
    assistant, fake = slack
    user, channel = new_ids()
    body = message_event(user, channel, "what are the risks of a discogram?")
    forged = signed(body, secret="not-the-signing-secret")
    stale = signed(body, timestamp=int(time.time()) - 6 * 60)  # right secret, 6 minutes old
    challenge = json.dumps({"token": "x", "challenge": "steal-me", "type": "url_verification"}).encode()

    for headers in (forged, stale, {}):
        assert post_event(assistant, body, headers).status_code in (401, 403)
    forged_challenge = post_event(assistant, challenge, signed(challenge, secret="wrong"))
    assert forged_challenge.status_code in (401, 403)
    assert "steal-me" not in forged_challenge.text

    # A genuine message sent afterwards is answered: by then the rejected ones would
    # have been too, had they been accepted.
    other_user, other_channel = new_ids()
    control = message_event(other_user, other_channel, "what are the risks of a discogram?")
    post_event(assistant, control, signed(control))
    fake.wait_for("chat.postMessage", posts_to(other_channel))
    assert fake.calls_to("chat.postMessage", posts_to(channel)) == []
    assert user_turns(assistant, user) == []
    assert "rejected a request with a missing, wrong or stale signature" in log_of(assistant)


def test_a_slack_retry_of_an_event_is_not_answered_twice(slack):
    assistant, fake = slack
    user, channel = new_ids()
    body = message_event(user, channel, "what are the risks of a discogram?",
                         event_id=f"EvRETRY{uuid.uuid4().hex[:8].upper()}")
    assert post_event(assistant, body, signed(body)).status_code == 200
    [first_answer] = fake.wait_for("chat.postMessage", posts_to(channel, "Risks and complications:"))

    # Slack resends the same event when it thinks we missed it (timeouts, errors).
    for number, reason in ((1, "http_timeout"), (2, "http_error")):
        retry = post_event(assistant, body, {**signed(body), "X-Slack-Retry-Num": str(number),
                                             "X-Slack-Retry-Reason": reason})
        assert retry.status_code == 200

    # The patient's next message is answered next: a retry handled as a new message
    # would have been answered before it (one conversation is handled in order).
    follow_up = message_event(user, channel, "and how long does it take?")
    post_event(assistant, follow_up, signed(follow_up))
    [next_answer] = fake.wait_for("chat.postMessage", posts_to(channel, "How long it takes:"))
    time.sleep(1)  # room for a late second answer to show up
    assert fake.calls_to("chat.postMessage", posts_to(channel, "Risks and complications:")) == [first_answer]
    assert user_turns(assistant, user) == ["what are the risks of a discogram?",
                                           "and how long does it take?"]


def test_a_retry_of_an_event_never_received_is_answered(slack):
    """A retry is dropped because its event was handled, not because it is a retry."""
    assistant, fake = slack
    user, channel = new_ids()
    body = message_event(user, channel, "what are the risks of a discogram?")
    headers = {**signed(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert post_event(assistant, body, headers).status_code == 200
    fake.wait_for("chat.postMessage", posts_to(channel, "• Infection at the injection site."))


def test_url_verification_returns_the_challenge(slack):
    assistant, _ = slack
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    answer = post_event(assistant, body, signed(body))
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_without_channel_variables_slack_and_telegram_are_off_and_rest_works(tmp_path):
    """What `make run` does with no Slack or Telegram variables set (the Makefile
    exports them empty): the server starts with the project's credentials.yml, the
    REST channel answers, the two webhooks say they are not configured."""
    with running_assistant(tmp_path, PROJECT_CREDENTIALS, channel_env(), guard=GUARD_OFF) as assistant:
        replies = assistant.send("patient-rest", "What are the risks of a discogram?")
        assert "• Infection at the injection site." in replies[0]["text"]

        for channel in ("slack", "telegram"):
            answer = requests.post(f"{assistant.url}/webhooks/{channel}/webhook", json={}, timeout=10)
            assert answer.status_code == 503
            assert "not set" in answer.text
        log = log_of(assistant)
        assert "Slack channel off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set" in log
        assert "Telegram channel off: TELEGRAM_TOKEN not set" in log
