"""Never silent: whatever goes wrong behind the assistant, the patient gets a reply.

The real Rasa server (trained model, the project's credentials.yml: REST, the
socket.io web chat, Slack against a fake Slack Web API, Telegram against a fake
Bot API) and the real action server, with faults made for real:

- the action server killed (kill -9), then started again;
- the action server slow: an HTTP proxy written here, on the action server's
  port, holds every request for SLOW_SECONDS before forwarding it;
- an action raising: the action server started with FEEDBACK_DB under a regular
  file, so that "This helped" (action_record_feedback) raises;
- a sender, or an address, sending too fast (a second Rasa server with small
  rate limits);
- not a fault: a chat platform slow to take the answer (the answer must not be
  followed by the fallback).

Each test checks what the patient sees on each channel: the domain's
utter_guard_unavailable (with the clinic's number) within REPLY_WITHIN seconds of
sending, nothing more afterwards, and a normal answer once the fault is gone,
still about the procedure asked about before. It also checks what the tracker
keeps. Reply times are printed (run with -s to see them).

The channel helpers of the fake platforms come from the channel tests
(tests/channels/test_slack.py, test_telegram.py), the fake APIs from
tests/channels/fake_api.py and the servers from scripts/local_servers.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests
import socketio
import yaml

from scripts.local_servers import TOKEN, Assistant, Server, action_server, rasa_server, started
from tests.channels.fake_api import PROJECT_CREDENTIALS, FakeApi, channel_env
from tests.channels.test_slack import (
    BOT_TOKEN as SLACK_BOT_TOKEN,
    SIGNING_SECRET as SLACK_SIGNING_SECRET,
    click as slack_click,
    message_event,
    new_ids,
    post_event,
    signed,
    slack_responder,
)
from tests.channels.test_telegram import (
    BOT_ID as TELEGRAM_BOT_ID,
    BOT_NAME as TELEGRAM_BOT_NAME,
    SLOW_CHATS,
    SLOW_SEND_SECONDS,
    UPDATE_IDS,
    fake_telegram,
    new_chat,
    patient as telegram_user,
    post_update,
    telegram_env,
    text_update,
)
from tests.conftest import ROOT, eventually

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
SLOTS = {name: slot["initial_value"] for name, slot in DOMAIN["slots"].items()
         if slot.get("initial_value") is not None}
CLINIC_PHONE = SLOTS["clinic_phone"]


def domain_text(response: str) -> str:
    """The domain response's text as the patient reads it (the clinic's slots filled in)."""
    return DOMAIN["responses"][response][0]["text"].format_map(SLOTS)


FALLBACK = domain_text("utter_guard_unavailable")
RATE_LIMITED = domain_text("utter_guard_rate_limited")
EMPTY = domain_text("utter_guard_empty")
TOO_LONG = DOMAIN["responses"]["utter_guard_too_long"][0]["text"].format(max_chars=1000)
# The guard's settings here: no rate limits (every channel's patients share 127.0.0.1;
# the limits have their own server below), and a reply timeout that a normal answer
# does not reach on a slow machine, while a fault is far beyond it.
REPLY_TIMEOUT = 4.0
MAX_CHARS = 1000
GUARD = {"RATE_LIMIT_PER_SENDER": "0", "RATE_LIMIT_PER_ADDRESS": "0",
         "REPLY_TIMEOUT_SECONDS": str(REPLY_TIMEOUT), "MAX_MESSAGE_CHARS": str(MAX_CHARS)}
REPLY_WITHIN = REPLY_TIMEOUT + 2  # seconds, from sending to the fallback arriving
SLOW_SECONDS = 3 * REPLY_TIMEOUT  # the slow action server's delay
ORIGIN = "http://localhost:8080"  # a page credentials.yml's socketio channel allows

RISKS_QUESTION = "what are the risks of a discogram?"
RISKS = "Lumbar discography (discogram), CPT 62290 — Risks and complications:"
DURATION_QUESTION = "how long does it take?"
DURATION = "Lumbar discography (discogram), CPT 62290 — How long it takes:"
HELPED = "This helped"


# ---------- what a patient sees, on each channel ----------


@dataclasses.dataclass
class Reply:
    text: str
    buttons: dict  # title -> the channel's button (payload, block element, keyboard button)
    after: float  # seconds from sending the message to this reply arriving
    raw: Any


class Patient:
    """One patient on one channel: sends messages, clicks buttons, collects the replies.

    The replies to a message are those that arrive until SETTLE seconds after the
    first one (an answer may come in several messages).
    """

    channel = ""
    SETTLE = 0.6

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.sender = ""  # the conversation id (tracker)
        self.seen = 0  # replies collected so far
        self.last: list[Reply] = []
        self.sent_at = 0.0  # time.monotonic() when the last message was sent

    def say(self, text: str) -> list[Reply]:
        return self._exchange(lambda: self._send(text))

    def click(self, title: str) -> list[Reply]:
        reply = next(r for r in reversed(self.last) if title in r.buttons)
        return self._exchange(lambda: self._press(reply, title))

    def unsolicited(self) -> list[Reply]:
        """Replies that arrived after those already collected (none expected)."""
        arrived = self._arrived()[self.seen:]
        self.seen += len(arrived)
        return [self._reply(raw, at - self.sent_at) for at, raw in arrived]

    def tracker(self) -> dict:
        return self.assistant.tracker(self.sender)

    def close(self) -> None:
        pass

    def _exchange(self, send: Callable[[], Any]) -> list[Reply]:
        assert not self.unsolicited(), f"{self.channel}: replies nobody asked for"
        start = self.sent_at = time.monotonic()
        send()
        deadline = start + 30
        while len(self._arrived()) <= self.seen:
            if time.monotonic() > deadline:
                pytest.fail(f"{self.channel}: no reply at all after 30 s (silence)")
            time.sleep(0.02)
        time.sleep(self.SETTLE)
        arrived = self._arrived()[self.seen:]
        self.seen += len(arrived)
        self.last = [self._reply(raw, at - start) for at, raw in arrived]
        return self.last

    # Per channel:
    def _send(self, text: str) -> None:
        raise NotImplementedError

    def _press(self, reply: Reply, title: str) -> None:
        raise NotImplementedError

    def _arrived(self) -> list[tuple[float, Any]]:
        """Every reply so far, as (time.monotonic() on arrival, the channel's message)."""
        raise NotImplementedError

    def _reply(self, raw: Any, after: float) -> Reply:
        raise NotImplementedError


class RestPatient(Patient):
    channel = "rest"

    def __init__(self, assistant: Assistant, sender: str | None = None) -> None:
        super().__init__(assistant)
        self.sender = sender or f"patient-{uuid.uuid4().hex[:10]}"
        self.status = 0

    def _exchange(self, send: Callable[[], Any]) -> list[Reply]:
        start = self.sent_at = time.monotonic()
        response = send()
        elapsed = time.monotonic() - start
        self.status = response.status_code
        assert response.status_code in (200, 429), (response.status_code, response.text)
        self.last = [self._reply(message, elapsed) for message in response.json()]
        return self.last

    def _send(self, text: str) -> requests.Response:
        return requests.post(f"{self.assistant.url}/webhooks/rest/webhook",
                             json={"sender": self.sender, "message": text}, timeout=30)

    def _press(self, reply: Reply, title: str) -> requests.Response:
        return self._send(reply.buttons[title]["payload"])

    def _arrived(self) -> list[tuple[float, Any]]:
        return []  # nothing can come after the HTTP response

    def _reply(self, raw: dict, after: float) -> Reply:
        return Reply(raw.get("text", ""), {b["title"]: b for b in raw.get("buttons", [])}, after, raw)


class EventLoop:
    """An asyncio event loop in a thread, for the socket.io clients."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class SocketPatient(Patient):
    """The web chat: a socket.io client (the widget's protocol) on the page's origin."""

    channel = "socket"

    def __init__(self, assistant: Assistant, loop: EventLoop) -> None:
        super().__init__(assistant)
        self.loop = loop
        self.received: list[tuple[float, dict]] = []
        self.client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.sender = loop.run(self._connect())

    async def _connect(self) -> str:
        session = asyncio.get_running_loop().create_future()
        self.client.on("session_confirm",
                       lambda session_id: session.done() or session.set_result(session_id))
        self.client.on("bot_uttered", lambda data: self.received.append((time.monotonic(), data)))
        # Long polling: python-engineio's websocket client needs aiohttp >= 3.10 (ClientWSTimeout),
        # Rasa 3.6 pins 3.9.
        await self.client.connect(self.assistant.url, headers={"Origin": ORIGIN},
                                  transports=["polling"], wait_timeout=10)
        await self.client.emit("session_request", {"session_id": None})
        return await asyncio.wait_for(session, 10)

    def _send(self, text: str) -> None:
        self.loop.run(self.client.emit("user_uttered", {"message": text, "session_id": self.sender}))

    def _press(self, reply: Reply, title: str) -> None:
        self._send(reply.buttons[title]["payload"])  # what the widget sends for a quick reply

    def _arrived(self) -> list[tuple[float, Any]]:
        return list(self.received)

    def _reply(self, raw: dict, after: float) -> Reply:
        return Reply(raw.get("text", ""), {b["title"]: b for b in raw.get("quick_replies") or []},
                     after, raw)

    def close(self) -> None:
        # Without waiting for the pending long poll to return (up to the ping interval).
        self.loop.run(self.client.eio.disconnect(abort=True))


class SlackPatient(Patient):
    """A direct message with the app: signed Events API requests, replies via the fake Web API."""

    channel = "slack"

    def __init__(self, assistant: Assistant, api: FakeApi) -> None:
        super().__init__(assistant)
        self.api = api
        self.sender, self.conversation = new_ids()

    def _send(self, text: str) -> None:
        body = message_event(self.sender, self.conversation, text)
        assert post_event(self.assistant, body, signed(body)).status_code == 200

    def _press(self, reply: Reply, title: str) -> None:
        button = reply.buttons[title]
        answer = slack_click(self.assistant, self.sender, self.conversation, reply.raw, button,
                             button.get("block_id", "b"))
        assert answer.status_code == 200

    def _arrived(self) -> list[tuple[float, Any]]:
        posts = self.api.calls_to("chat.postMessage",
                                  lambda call: call.params.get("channel") == self.conversation)
        return [(call.at, call) for call in posts]

    def _reply(self, call: Any, after: float) -> Reply:
        buttons = {element["text"]["text"]: element
                   for block in call.params.get("blocks") or [] if block["type"] == "actions"
                   for element in block["elements"]}
        return Reply(call.params.get("text", ""), buttons, after, call)


class TelegramPatient(Patient):
    """A private chat with the bot: updates on the webhook, replies via the fake Bot API."""

    channel = "telegram"

    def __init__(self, assistant: Assistant, api: FakeApi) -> None:
        super().__init__(assistant)
        self.api = api
        self.chat = new_chat()
        self.sender = str(self.chat)

    def _send(self, text: str) -> None:
        assert post_update(self.assistant, text_update(self.chat, text)).status_code == 200

    def _press(self, reply: Reply, title: str) -> None:
        sent = reply.raw
        press = {"update_id": next(UPDATE_IDS), "callback_query": {
            "id": f"cbq-{uuid.uuid4().hex[:8]}", "from": telegram_user(self.chat),
            "chat_instance": "-5550001", "data": reply.buttons[title]["callback_data"],
            "message": {"message_id": sent.answer["result"]["message_id"],
                        "from": {"id": TELEGRAM_BOT_ID, "is_bot": True,
                                 "first_name": "Spine assistant", "username": TELEGRAM_BOT_NAME},
                        "chat": {"id": self.chat, "first_name": "Pat", "type": "private"},
                        "date": int(time.time()), "text": sent.params["text"],
                        "reply_markup": sent.params["reply_markup"]}}}
        assert post_update(self.assistant, press).status_code == 200

    def _arrived(self) -> list[tuple[float, Any]]:
        sent = self.api.calls_to("sendMessage", lambda call: call.params.get("chat_id") == self.chat)
        return [(call.at, call) for call in sent]

    def _reply(self, call: Any, after: float) -> Reply:
        keyboard = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        return Reply(call.params.get("text", ""),
                     {button["text"]: button for row in keyboard for button in row}, after, call)


def all_at_once(patients: list[Patient], act: Callable[[Patient], list[Reply]]) -> list[list[Reply]]:
    """Every patient acts at the same time (one thread each); their replies, in order."""
    with ThreadPoolExecutor(len(patients)) as pool:
        return list(pool.map(act, patients))


def texts(replies: list[Reply]) -> list[str]:
    return [reply.text for reply in replies]


def assert_answered(patient: Patient, replies: list[Reply], expected: str) -> None:
    assert replies and expected in replies[0].text, f"{patient.channel}: {texts(replies)}"
    assert FALLBACK not in texts(replies), f"{patient.channel}: {texts(replies)}"


def assert_fallback(patient: Patient, replies: list[Reply], fault: str) -> float:
    """Exactly the "can't look that up" reply, with the clinic's number, in time."""
    assert texts(replies) == [FALLBACK], f"{patient.channel}: {texts(replies)}"
    assert CLINIC_PHONE in replies[0].text
    after = replies[0].after
    print(f"\n  {fault}: {patient.channel:8s} fallback after {after:.2f} s", end="")
    assert after < REPLY_WITHIN, f"{patient.channel}: the fallback took {after:.2f} s"
    return after


def stored_turn(patient: Patient, text: str) -> list[dict]:
    """The tracker's events for the patient's last message `text`, up to the next one."""
    events = patient.tracker()["events"]
    starts = [i for i, event in enumerate(events) if event["event"] == "user" and event.get("text") == text]
    assert starts, f"{patient.channel}: {text!r} not stored in the tracker"
    turn = events[starts[-1]:starts[-1] + 1]
    for event in events[starts[-1] + 1:]:
        if event["event"] == "user":
            break
        turn.append(event)
    return turn


def guard_replies(patient: Patient, text: str) -> list[tuple[str, dict]]:
    """The stored bot events of that turn: (text, the guard's part of their metadata)."""
    return [(event.get("text"), {key: value for key, value in (event.get("metadata") or {}).items()
                                 if key in ("guard", "withheld_messages")})
            for event in stored_turn(patient, text) if event["event"] == "bot"]


def events_of_turn(patient: Patient, text: str) -> list[str]:
    """What the tracker stored for the patient's last message `text`, one line per event."""
    turn = []
    for event in stored_turn(patient, text):
        kind = event["event"]
        if kind == "user":
            intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
            turn.append(f"user: {event['text']} ({intent})")
        elif kind == "action":
            turn.append(f"action: {event['name']}")
        elif kind == "bot":
            turn.append(f"bot: {(event.get('text') or '')[:45]}")
        elif kind == "slot":
            turn.append(f"slot: {event['name']}={event['value']}")
    return turn


def guard_counts(workdir: Any) -> Counter:
    """The guard's replies counted for `make report` (the feedback database), by kind."""
    database = workdir / "feedback.db"
    if not database.exists():
        return Counter()
    with closing(sqlite3.connect(database)) as db:
        return Counter(dict(db.execute(
            "SELECT kind, COUNT(*) FROM feedback WHERE kind LIKE 'guard_%' GROUP BY kind")))


def assert_counted(workdir: Any, before: Counter, expected: dict) -> None:
    """The guard's counts grew by `expected` (they are written just after the reply: polled)."""
    eventually(lambda: guard_counts(workdir) - before == Counter(expected), 30,
               f"the report's counts grown by {expected}")


def print_turn(patient: Patient, turn: list[str]) -> None:
    print(f"\n  tracker ({patient.channel}): " + " | ".join(turn), end="")


def bot_texts(turn: list[str]) -> list[str]:
    return [line for line in turn if line.startswith("bot: ")]


# ---------- servers ----------


class SlowProxy:
    """An HTTP proxy on 127.0.0.1:`port` in front of `upstream`, holding each request `delay` s."""

    def __init__(self, port: int, upstream: str) -> None:
        self.delay = 0.0
        self.forwarded: list[tuple[str, float]] = []  # (path, delay it was held)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delay = proxy.delay
                time.sleep(delay)
                with requests.Session() as session:
                    session.trust_env = False  # no HTTP proxy between here and the action server
                    answer = session.request(
                        self.command, upstream + self.path, data=body, timeout=60,
                        headers={"Content-Type": self.headers.get("Content-Type", "application/json")})
                proxy.forwarded.append((self.path, delay))
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclasses.dataclass
class Clinic:
    assistant: Assistant
    rasa: Server
    actions: Server  # listens where the Rasa server's ACTION_SERVER_URL points
    slack: FakeApi
    telegram: FakeApi
    loop: EventLoop
    workdir: Any

    def patients(self) -> list[Patient]:
        return [RestPatient(self.assistant), SocketPatient(self.assistant, self.loop),
                SlackPatient(self.assistant, self.slack), TelegramPatient(self.assistant, self.telegram)]


@pytest.fixture(scope="module")
def loop() -> Iterator[EventLoop]:
    running = EventLoop()
    yield running
    running.close()


@pytest.fixture(scope="module")
def clinic(tmp_path_factory, loop) -> Iterator[Clinic]:
    """The Rasa server with every channel of credentials.yml, and the action server."""
    workdir = tmp_path_factory.mktemp("never-silent")
    slack = FakeApi(slack_responder, lambda path: path.rsplit("/", 1)[-1].split("?")[0]).start()
    telegram = fake_telegram().start()
    env = {**telegram_env(telegram), "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
           "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET, "SLACK_API_URL": f"{slack.url}/api/"}
    actions = action_server(workdir, env)
    rasa = rasa_server(workdir, actions.url, guard=GUARD, credentials=PROJECT_CREDENTIALS, env=env)
    try:
        with started(actions, rasa):
            clinic = Clinic(Assistant(rasa.url, TOKEN, workdir), rasa, actions, slack, telegram,
                            loop, workdir)
            yield clinic
            clinic.actions.stop()  # the one running now (a test may have replaced it)
    finally:
        slack.stop()
        telegram.stop()


@pytest.fixture
def patients(clinic) -> Iterator[list[Patient]]:
    """A new patient on each channel; the action server up (a failed test may have left it down)."""
    if clinic.actions.process is None or clinic.actions.process.poll() is not None:
        clinic.actions.start()
    everyone = clinic.patients()
    yield everyone
    for patient in everyone:
        patient.close()


# ---------- a. the action server down ----------


def test_action_server_down_every_channel_gets_the_fallback_then_the_conversation_goes_on(
        clinic, patients):
    before = all_at_once(patients, lambda p: p.say(RISKS_QUESTION))
    for patient, replies in zip(patients, before):
        assert_answered(patient, replies, RISKS)

    clinic.actions.stop(kill=True)  # kill -9
    assert clinic.actions.process.returncode == -9

    counted = guard_counts(clinic.workdir)
    during = all_at_once(patients, lambda p: p.say(DURATION_QUESTION))
    for patient, replies in zip(patients, during):
        assert_fallback(patient, replies, "action server down")
    assert_counted(clinic.workdir, counted, {"guard_fallback_no_reply": len(patients)})
    for patient in patients:
        turn = events_of_turn(patient, DURATION_QUESTION)
        print_turn(patient, turn)
        assert turn[0].startswith(f"user: {DURATION_QUESTION}")  # the question is kept
        assert "action: action_answer_section" in turn  # tried; its events are lost
        # What the patient saw, and only that: the fallback, named as the guard's.
        assert guard_replies(patient, DURATION_QUESTION) == [(FALLBACK, {"guard": "no_reply"})]

    clinic.actions.start()
    after = all_at_once(patients, lambda p: p.say(DURATION_QUESTION))
    for patient, replies in zip(patients, after):
        assert_answered(patient, replies, DURATION)  # still about the discogram
        print(f"\n  after restart: {patient.channel:8s} answer after {replies[0].after:.2f} s", end="")
    for patient in patients:
        assert patient.unsolicited() == []


# ---------- b. the action server slow ----------


@pytest.fixture
def slow_proxy(clinic, patients) -> Iterator[SlowProxy]:
    """The action server moved to another port, a SlowProxy to it where it was."""
    clinic.actions.stop()
    upstream = action_server(clinic.workdir, clinic.actions.env, name="actions-behind-proxy")
    proxy = None
    try:
        upstream.start()
        proxy = SlowProxy(urlsplit(clinic.actions.url).port, upstream.url)
        yield proxy
    finally:
        if proxy:
            proxy.stop()
        upstream.stop()
        clinic.actions.start()


def test_action_server_slow_the_fallback_comes_in_time_and_the_late_answer_never(
        clinic, patients, slow_proxy):
    before = all_at_once(patients, lambda p: p.say(RISKS_QUESTION))
    for patient, replies in zip(patients, before):
        assert_answered(patient, replies, RISKS)

    slow_proxy.delay = SLOW_SECONDS
    counted = guard_counts(clinic.workdir)
    during = all_at_once(patients, lambda p: p.say(DURATION_QUESTION))
    for patient, replies in zip(patients, during):
        assert_fallback(patient, replies, "action server slow")
    assert_counted(clinic.workdir, counted, {"guard_fallback_timeout": len(patients)})

    # The late turns end and are stored (the tracker is saved at the end of a turn) ...
    def late_turn_stored(patient: Patient) -> bool:
        try:
            return "action: action_answer_section" in events_of_turn(patient, DURATION_QUESTION)
        except AssertionError:  # not stored yet
            return False

    eventually(lambda: all(late_turn_stored(p) for p in patients), SLOW_SECONDS + 15,
               "the late turns stored")
    assert sum(1 for _, delay in slow_proxy.forwarded if delay == SLOW_SECONDS) >= len(patients)
    time.sleep(1.5)  # room for a late answer to reach a channel
    # ... but the late answer is never shown to the patient, who was told there is
    # none, nor stored as said: the record holds the fallback, and how many
    # messages of the late answer were withheld.
    for patient in patients:
        assert patient.unsolicited() == [], f"{patient.channel}: got the late answer"
        turn = events_of_turn(patient, DURATION_QUESTION)
        print_turn(patient, turn)
        [(text, metadata)] = guard_replies(patient, DURATION_QUESTION)
        assert text == FALLBACK and metadata["guard"] == "timeout", metadata
        assert metadata["withheld_messages"] >= 1
        assert not [line for line in bot_texts(turn) if DURATION[:40] in line]

    slow_proxy.delay = 0
    after = all_at_once(patients, lambda p: p.say(DURATION_QUESTION))
    for patient, replies in zip(patients, after):
        assert_answered(patient, replies, DURATION)


# ---------- c. an action raising ----------


@pytest.fixture
def feedback_unwritable(clinic, patients) -> Iterator[None]:
    """The action server restarted (same port) with FEEDBACK_DB under a regular file."""
    blocker = clinic.workdir / "not-a-folder"
    blocker.write_text("a file, so no database can be created under it\n")
    normal = clinic.actions
    clinic.actions.stop()
    clinic.actions = dataclasses.replace(
        normal, env={**normal.env, "FEEDBACK_DB": str(blocker / "feedback.db")}, process=None)
    try:
        clinic.actions.start()
        yield
    finally:
        clinic.actions.stop()
        clinic.actions = normal
        normal.start()


def test_an_action_raising_gets_the_fallback_and_the_next_question_is_answered(
        clinic, patients, feedback_unwritable):
    answers = all_at_once(patients, lambda p: p.say(RISKS_QUESTION))
    for patient, replies in zip(patients, answers):
        assert_answered(patient, replies, RISKS)
        assert any(HELPED in reply.buttons for reply in replies), f"{patient.channel}: no {HELPED!r}"

    counted = guard_counts(clinic.workdir)
    clicked = all_at_once(patients, lambda p: p.click(HELPED))
    for patient, replies in zip(patients, clicked):
        assert_fallback(patient, replies, "action raises")
    assert_counted(clinic.workdir, counted, {"guard_fallback_no_reply": len(patients)})
    log = (clinic.workdir / "actions.log").read_text()
    assert "Traceback" in log and "feedback" in log  # it really raised in the action server
    for patient in patients:
        turn = events_of_turn(patient, "/feedback_helpful")
        print_turn(patient, turn)
        assert turn[0] == "user: /feedback_helpful (feedback_helpful)"
        assert "action: action_record_feedback" in turn
        # No "Thank you": the fallback, as the patient saw it.
        assert guard_replies(patient, "/feedback_helpful") == [(FALLBACK, {"guard": "no_reply"})]

    after = all_at_once(patients, lambda p: p.say(DURATION_QUESTION))
    for patient, replies in zip(patients, after):
        assert_answered(patient, replies, DURATION)


# ---------- messages the guard refuses ----------


def test_too_long_and_empty_messages_get_a_polite_reply_are_counted_and_not_stored(clinic, patients):
    counted = guard_counts(clinic.workdir)
    too_long = "My back hurts when I sit. " * (MAX_CHARS // 20)
    assert len(too_long) > MAX_CHARS
    answers = all_at_once(patients, lambda p: p.say(too_long))
    for patient, replies in zip(patients, answers):
        assert texts(replies) == [TOO_LONG], f"{patient.channel}: {texts(replies)}"
    # Empty: on REST and the widget (Slack sends no empty message; Telegram's own
    # reply to a message without text is tested in tests/channels/test_telegram.py).
    typed = [p for p in patients if isinstance(p, (RestPatient, SocketPatient))]
    for patient in typed:
        assert texts(patient.say(" \t ")) == [EMPTY], f"{patient.channel}"
    assert_counted(clinic.workdir, counted, {"guard_too_long": len(patients), "guard_empty": len(typed)})
    for patient in patients:  # nothing of the patient's text, and no turn, in the record
        assert [e for e in patient.tracker()["events"] if e["event"] in ("user", "bot")] == []


# ---------- a slow chat platform (not a fault of the assistant) ----------


def test_an_answer_slow_to_deliver_is_not_followed_by_the_fallback(clinic, patients):
    [patient] = [p for p in patients if isinstance(p, TelegramPatient)]
    SLOW_CHATS.add(patient.chat)  # the fake Bot API takes SLOW_SEND_SECONDS for each sendMessage
    assert SLOW_SEND_SECONDS > REPLY_TIMEOUT
    patient.SETTLE = REPLY_TIMEOUT + 2  # room for a fallback after the answer
    replies = patient.say(RISKS_QUESTION)
    print("\n  slow Telegram: " + " | ".join(f"{r.after:.2f} s {r.text[:30]}" for r in replies), end="")
    assert RISKS in replies[0].text
    assert texts(replies) == [replies[0].text], "the fallback came after the answer"


# ---------- d. rate limits ----------

PER_SENDER, PER_ADDRESS = 3, 6


@pytest.fixture(scope="module")
def limited(clinic) -> Iterator[Assistant]:
    """A second Rasa server (REST and socket), with small limits, on the same action server."""
    # A window longer than any run of this test: what is counted does not depend
    # on how fast the machine sends the messages.
    guard = {"RATE_LIMIT_PER_SENDER": str(PER_SENDER), "RATE_LIMIT_PER_ADDRESS": str(PER_ADDRESS),
             "RATE_LIMIT_WINDOW_SECONDS": "3600", "REPLY_TIMEOUT_SECONDS": str(REPLY_TIMEOUT)}
    rasa = rasa_server(
        clinic.workdir, clinic.actions.url, guard=guard, credentials=PROJECT_CREDENTIALS,
        name="rasa-limited",
        env={**channel_env(), "TRACKER_DB": str(clinic.workdir / "conversations-limited.db")})
    with started(rasa):
        yield Assistant(rasa.url, TOKEN, clinic.workdir)


QUESTIONS = [RISKS_QUESTION, DURATION_QUESTION, "how do I prepare for it?"]


def assert_limited(patient: Patient, replies: list[Reply]) -> None:
    assert texts(replies) == [RATE_LIMITED], f"{patient.channel}: {texts(replies)}"
    print(f"\n  rate limited: {patient.channel:8s} polite reply after {replies[0].after:.2f} s", end="")


def user_texts(patient: Patient) -> list[str]:
    return [e["text"] for e in patient.tracker()["events"] if e["event"] == "user"]


def check_rate_limits(make_patient: Callable[[], Patient], is_rest: bool) -> None:
    first = make_patient()
    counted = guard_counts(first.assistant.workdir)
    for question in QUESTIONS:  # PER_SENDER messages: answered
        replies = first.say(question)
        assert replies and replies[0].text not in (FALLBACK, RATE_LIMITED), texts(replies)
        assert not is_rest or first.status == 200
    replies = first.say("and what about recovery?")  # one too many
    assert_limited(first, replies)
    if is_rest:  # 429, and the same JSON list as an answer
        assert first.status == 429
        assert [reply.raw for reply in replies] == [{"recipient_id": first.sender, "text": RATE_LIMITED}]
    assert user_texts(first) == QUESTIONS  # the limited message never reached the assistant

    others = [make_patient() for _ in range(PER_ADDRESS - PER_SENDER + 1)]
    # Another patient (same address) is still answered, up to the address's limit ...
    for other in others[:-1]:
        assert_answered(other, other.say(RISKS_QUESTION), RISKS)
        assert not is_rest or other.status == 200
    # ... then every sender from that address is limited, even a new one.
    last = others[-1]
    assert_limited(last, last.say(RISKS_QUESTION))
    assert not is_rest or last.status == 429
    assert user_texts(last) == []
    assert_counted(first.assistant.workdir, counted, {"guard_rate_limited": 2})
    for patient in [first, *others]:
        patient.close()


def test_rest_rate_limits_per_sender_and_per_address(limited):
    check_rate_limits(lambda: RestPatient(limited), is_rest=True)


def test_socket_rate_limits_per_sender_and_per_address(limited, loop):
    check_rate_limits(lambda: SocketPatient(limited, loop), is_rest=False)
