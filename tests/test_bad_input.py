"""Bad, odd and hostile input, through the real servers (REST and the web chat socket).

Whatever arrives, from a patient, a broken client or an attacker, the sender gets
either a 4xx with a clear JSON error or a 200 with a polite reply: never a 500,
never silence; and the server goes on answering everyone else. This is the work
of channels/guard.py, channels/rest.py and channels/socketio.py; Sanic refuses
bodies over SANIC_REQUEST_MAX_SIZE (1 MB here, as for `make run`) with a 413.

Rate limits are off here (so that many cases can come from one address), and
the reply timeout is long (so that a busy machine gives answers, not fallbacks).
Run with -s to see what each case got and what was stored in its conversation.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest
import requests
import socketio
import yaml

from scripts.local_servers import GUARD_OFF, TOKEN, Assistant, Server, action_server, rasa_server, started
from tests.conftest import ROOT

MAX_BODY = 1_000_000  # SANIC_REQUEST_MAX_SIZE
ORIGIN = "http://127.0.0.1:8080"  # a page allowed to use the widget
ENV = {"SANIC_REQUEST_MAX_SIZE": str(MAX_BODY)}
JSON = {"Content-Type": "application/json"}

QUESTION = "what are the risks of a discogram?"
RISKS = "Lumbar discography (discogram), CPT 62290 — Risks and complications:"
EMPTY = "I didn't get any text. What would you like to know about your procedure?"
TOO_LONG = "That message is too long for me (more than 1000 characters)."
GREETING = "I'm the clinic's patient-education assistant"
UNAVAILABLE = "Sorry, I can't look that up right now"  # the guard's fallback: the assistant failed
HOSTILE = re.compile(r"<script|javascript:|onerror|alert\(", re.IGNORECASE)
UNSTORABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
CLINIC_PHONE = DOMAIN["slots"]["clinic_phone"]["initial_value"]
BIG = "What are the risks and how long does it take? " * 2200  # ~100 KB
assert 100_000 <= len(BIG.encode()) < 110_000


# ---------- servers ----------


@dataclass
class Servers:
    assistant: Assistant
    rasa: Server
    actions: Server

    @property
    def webhook(self) -> str:
        return f"{self.assistant.url}/webhooks/rest/webhook"


def credentials() -> str:
    """The REST channel and credentials.yml's socket channel, allowing ORIGIN."""
    socket_channel = yaml.safe_load((ROOT / "credentials.yml").read_text())["channels.socketio.SocketIOInput"]
    return yaml.safe_dump({
        "channels.rest.RestInput": None,
        "channels.socketio.SocketIOInput": {**socket_channel, "cors_allowed_origins": [ORIGIN]},
    })


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[Servers]:
    workdir = tmp_path_factory.mktemp("bad-input")
    actions = action_server(workdir, ENV)
    rasa = rasa_server(workdir, actions.url, guard=GUARD_OFF, credentials=credentials(), env=ENV)
    with started(actions, rasa):
        yield Servers(Assistant(rasa.url, TOKEN, workdir), rasa, actions)


def still_answers(servers: Servers) -> None:
    """Both servers still run, and a new conversation gets a correct answer."""
    log = servers.assistant.workdir / "rasa.log"
    assert servers.rasa.process.poll() is None, f"the Rasa server died:\n{log.read_text()[-3000:]}"
    assert servers.actions.process.poll() is None, "the action server died"
    replies = servers.assistant.send(new_patient(), QUESTION)
    assert replies and replies[0]["text"].startswith(RISKS), replies


# ---------- helpers: conversations on each channel ----------


def new_patient() -> str:
    return f"patient-{uuid.uuid4().hex[:12]}"


@dataclass
class Turn:
    replies: list[dict]
    seconds: float
    status: int = 200

    @property
    def text(self) -> str:
        return "\n".join(reply.get("text", "") for reply in self.replies)


NO_DATA = object()  # a socket event sent without data


def rest_conversation(servers: Servers, messages: list[Any]) -> tuple[str, list[Turn]]:
    """What a patient sees after each message, on the REST channel, in one new conversation."""
    sender, turns = new_patient(), []
    for message in messages:
        start = time.monotonic()
        response = requests.post(servers.webhook, json={"sender": sender, "message": message}, timeout=60)
        turns.append(Turn(response.json(), time.monotonic() - start, response.status_code))
    return sender, turns


def socket_conversation(servers: Servers, messages: list[Any]) -> tuple[str, list[Turn]]:
    """The same on the socket, as the web chat widget talks: one session, one turn a message.

    A message that is a function of the session id gives the event's data (raw events).
    """
    return asyncio.run(_socket_conversation(servers.assistant.url, messages))


async def _socket_conversation(url: str, messages: list[Any], timeout: float = 30) -> tuple[str, list[Turn]]:
    client = socketio.AsyncClient()
    confirmed: asyncio.Queue = asyncio.Queue()
    bot: asyncio.Queue = asyncio.Queue()
    client.on("session_confirm", confirmed.put_nowait)
    client.on("bot_uttered", bot.put_nowait)
    await client.connect(url, transports=["polling"], headers={"Origin": ORIGIN})
    try:
        await client.emit("session_request", {"session_id": None})
        session = await asyncio.wait_for(confirmed.get(), timeout)
        turns = []
        for message in messages:
            data = message(session) if callable(message) else {"message": message, "session_id": session}
            start = time.monotonic()
            await (client.emit("user_uttered") if data is NO_DATA else client.emit("user_uttered", data))
            try:
                replies = [await asyncio.wait_for(bot.get(), timeout)]
            except asyncio.TimeoutError:
                replies = []  # silence
            seconds = time.monotonic() - start
            await asyncio.sleep(0.5)  # the other messages of the same answer
            while not bot.empty():
                replies.append(bot.get_nowait())
            turns.append(Turn(replies, seconds))
        return session, turns
    finally:  # without waiting for the pending long-poll (up to the 25 s ping interval)
        await client.eio.disconnect(abort=True)


CHANNELS = {"rest": rest_conversation, "socket": socket_conversation}


def is_polite(turn: Turn) -> None:
    """200, at least one message, every message with text, the assistant did not fail, no script."""
    assert turn.status == 200, (turn.status, turn.replies)
    assert isinstance(turn.replies, list) and turn.replies, "no reply (silent)"
    assert all(isinstance(reply.get("text"), str) and reply["text"].strip() for reply in turn.replies), turn.replies
    assert UNAVAILABLE not in turn.text, turn.text
    assert not UNSTORABLE.search(turn.text), turn.text
    assert not HOSTILE.search(json.dumps(turn.replies, ensure_ascii=False)), turn.replies


def stored(assistant: Assistant, sender: str) -> tuple[dict, list[str]]:
    """The conversation's tracker and the user texts in it."""
    tracker = assistant.tracker(sender)
    return tracker, [event["text"] for event in tracker["events"] if event["event"] == "user"]


def nothing_reset(tracker: dict) -> None:
    """No restart, no undo, no second session: what "/restart", "/back", "/session_start" would do."""
    names = [event["event"] for event in tracker["events"]]
    assert not {"restart", "rewind", "undo"} & set(names), names
    assert names.count("session_started") <= 1, names


def show(channel: str, case: str, turn: Turn, texts: Any) -> None:
    reply = turn.text.replace("\n", " ")
    print(f"\n[{channel}] {case}: {turn.status} in {turn.seconds:.3f}s, {reply[:90]!r}; stored: {str(texts)[:90]}")


# ---------- one message: every channel ----------

# id: (message, what the patient sees (in the first reply) or None for any polite reply,
#      the user text stored in the conversation, or None when nothing may be stored)
MESSAGES = {
    "empty": ("", EMPTY, None),
    "whitespace-only": (" \t\n\u00a0\u3000  ", EMPTY, None),
    "control-characters-only": ("\x00\x07\x1b\x7f\x85", EMPTY, None),
    "100-KB": (BIG, TOO_LONG, None),
    "100-KB-that-NFKC-expands-18x": ("\ufdfa" * 34_000, TOO_LONG, None),
    "control-characters-and-NUL": (
        "what are the\x00 risks\x07 of a\x1b discogram?\x7f", RISKS, "what are the  risks  of a  discogram?"),
    "lone-surrogates": ("\ud800 what are the risks of a discogram? \udfff", RISKS,
                        "? what are the risks of a discogram? ?"),
    "emoji": ("😀 what are the risks of a discogram? 🙏🏽", RISKS, "😀 what are the risks of a discogram? 🙏🏽"),
    "arabic": ("ما هي مخاطر تصوير القرص؟", None, "ما هي مخاطر تصوير القرص؟"),
    "hebrew": ("מה הסיכונים של דיסקוגרפיה?", None, "מה הסיכונים של דיסקוגרפיה?"),
    "right-to-left-override": ("\u202ewhat are the risks of a discogram?", RISKS,
                               "\u202ewhat are the risks of a discogram?"),
    "html-script": ("<script>alert('x')</script>", None, "<script>alert('x')</script>"),
    "html-script-and-a-question": ("<script>alert(1)</script> what are the risks of a discogram?", RISKS,
                                   "<script>alert(1)</script> what are the risks of a discogram?"),
    "markdown-javascript-link": ("[click me](javascript:alert(1)) <img src=x onerror=alert(1)>", None,
                                 "[click me](javascript:alert(1)) <img src=x onerror=alert(1)>"),
    "/restart": ("/restart", None, "restart"),
    "/session_start": ("/session_start", None, "session_start"),
    "/back": ("/back", None, "back"),
    "/greet-with-an-unknown-procedure": ('/greet{"procedure":"x"}', GREETING, '/greet{"procedure":"x"}'),
    # Read as words (not the domain's entity): a polite reply, and the clinic's number kept.
    "/ask_risks-setting-clinic_phone": ('/ask_risks{"clinic_phone":"666"}', None, 'ask_risks{"clinic_phone":"666"}'),
    "/ask_risks-with-a-long-entity-value": (
        '/ask_risks{"procedure":"' + "6" * 65 + '"}', None, 'ask_risks{"procedure":"' + "6" * 65 + '"}'),
    "/ask_risks-with-NUL-and-surrogate-escaped-in-an-entity": (
        '/ask_risks{"other_topic":"\\ud800 x\\u0000 y"}', None, 'ask_risks{"other_topic":"\\ud800 x\\u0000 y"}'),
    "/ask_risks-with-a-script-as-other_topic": (
        '/ask_risks{"other_topic":"<script>alert(1)</script>"}', None,
        '/ask_risks{"other_topic":"<script>alert(1)</script>"}'),
    "button-payload": ('/ask_risks{"procedure":"62290"}', RISKS, '/ask_risks{"procedure":"62290"}'),
}


@pytest.mark.parametrize("case", list(MESSAGES))
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_message_gets_a_polite_reply(servers, channel, case):
    """The patient always gets an answer or a polite word; the server lives on."""
    message, expected, expected_stored = MESSAGES[case]
    sender, [turn] = CHANNELS[channel](servers, [message])
    tracker, texts = stored(servers.assistant, sender)
    show(channel, case, turn, texts)

    is_polite(turn)
    if expected is not None:
        assert turn.replies[0]["text"].startswith(expected) or expected in turn.replies[0]["text"], turn.text
    assert texts == ([] if expected_stored is None else [expected_stored])
    assert not any(UNSTORABLE.search(text) for text in texts)
    nothing_reset(tracker)
    if case == "/greet-with-an-unknown-procedure":
        assert tracker["slots"]["procedure"] is None
    assert tracker["slots"]["clinic_phone"] == CLINIC_PHONE
    still_answers(servers)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_100_kb_message_is_refused_at_once_and_not_stored(servers, channel):
    """A pasted document: "too long" within 2 s; the text is kept nowhere; others are still answered."""
    sender, [turn] = CHANNELS[channel](servers, [BIG])
    print(f"\n[{channel}] 100 KB message answered in {turn.seconds:.3f} s")
    is_polite(turn)
    assert turn.replies[0]["text"].startswith(TOO_LONG)
    assert turn.seconds < 2
    tracker, texts = stored(servers.assistant, sender)
    assert texts == []
    serialized = json.dumps(tracker)
    assert BIG not in serialized and BIG[:1001] not in serialized

    start = time.monotonic()
    still_answers(servers)
    print(f"[{channel}] another conversation answered {time.monotonic() - start:.3f} s later")


@pytest.mark.parametrize("channel", CHANNELS)
def test_slash_restart_does_not_wipe_the_conversation(servers, channel):
    """Typing "/restart" is read as words: the follow-up still knows the procedure."""
    sender, turns = CHANNELS[channel](servers, [QUESTION, "/restart", "how long does it take?"])
    for turn in turns:
        is_polite(turn)
    assert turns[0].replies[0]["text"].startswith(RISKS)
    assert "Lumbar discography (discogram), CPT 62290 — How long it takes:" in turns[2].text
    tracker, texts = stored(servers.assistant, sender)
    assert texts == [QUESTION, "restart", "how long does it take?"]
    nothing_reset(tracker)
    assert tracker["slots"]["procedure"] == "62290"
    still_answers(servers)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_patient_cannot_set_the_clinic_phone(servers, channel):
    """After '/ask_risks{"clinic_phone":"666"}', asking for a nurse gives the clinic's real number."""
    sender, [injected, nurse] = CHANNELS[channel](servers, ['/ask_risks{"clinic_phone":"666"}', "can I talk to a nurse?"])
    is_polite(injected)
    is_polite(nurse)
    assert CLINIC_PHONE in nurse.text and "666" not in nurse.text, nurse.text
    tracker, _ = stored(servers.assistant, sender)
    assert tracker["slots"]["clinic_phone"] == CLINIC_PHONE
    assert not [e for e in tracker["events"] if e["event"] == "slot" and e["name"] == "clinic_phone"]
    still_answers(servers)


# ---------- REST: requests that are not a message ----------


def body(**fields: Any) -> dict:
    return {"data": json.dumps(fields).encode(), "headers": JSON}


def raw(data: bytes, content_type: str = "application/json") -> dict:
    return {"data": data, "headers": {"Content-Type": content_type}}


# id: (requests' arguments for a sender, status, what the error says)
REQUESTS: dict[str, tuple[Callable[[str], dict], int, str]] = {
    "invalid-UTF-8": (lambda s: raw(b'{"sender": "%s", "message": "caf\xe9 \xff\xfe\xc3"}' % s.encode()), 400, "not valid JSON"),
    "latin-1-declared": (lambda s: raw(b'{"sender": "%s", "message": "caf\xe9"}' % s.encode(),
                                       "application/json; charset=latin-1"), 400, "not valid JSON"),
    "malformed-JSON": (lambda s: raw(b'{"sender": "%s", "message": "hi"' % s.encode()), 400, "not valid JSON"),
    "JSON-with-trailing-text": (lambda s: raw(b'{"sender": "%s", "message": "hi"} and more' % s.encode()), 400, "not valid JSON"),
    "single-quoted-pseudo-JSON": (lambda s: raw(b"{'sender': '%s', 'message': 'hi'}" % s.encode()), 400, "not valid JSON"),
    "empty-body": (lambda s: raw(b""), 400, "must be a JSON object"),
    "JSON-array": (lambda s: raw(json.dumps([{"sender": s, "message": "hi"}]).encode()), 400, "must be a JSON object"),
    "JSON-string": (lambda s: raw(b'"what are the risks of a discogram?"'), 400, "must be a JSON object"),
    "JSON-number": (lambda s: raw(b"42"), 400, "must be a JSON object"),
    "JSON-null": (lambda s: raw(b"null"), 400, "must be a JSON object"),
    "missing-sender": (lambda s: body(message="hi"), 400, '"sender" must be'),
    "sender-null": (lambda s: body(sender=None, message="hi"), 400, '"sender" must be'),
    "sender-list": (lambda s: body(sender=[s], message="hi"), 400, '"sender" must be'),
    "sender-object": (lambda s: body(sender={"id": s}, message="hi"), 400, '"sender" must be'),
    "sender-true": (lambda s: body(sender=True, message="hi"), 400, '"sender" must be'),
    "sender-float": (lambda s: body(sender=1.5, message="hi"), 400, '"sender" must be'),
    "sender-empty": (lambda s: body(sender="", message="hi"), 400, '"sender" must be'),
    "sender-spaces": (lambda s: body(sender="   ", message="hi"), 400, '"sender" must be'),
    "sender-129-characters": (lambda s: body(sender="p" * 129, message="hi"), 400, '"sender" must be'),
    "sender-lone-surrogate": (lambda s: body(sender="\ud800" + s, message="hi"), 400, '"sender" must not contain'),
    "sender-NUL": (lambda s: body(sender=s + "\x00", message="hi"), 400, '"sender" must not contain'),
    "sender-newline": (lambda s: body(sender=s + "\n", message="hi"), 400, '"sender" must not contain'),
    "missing-message": (lambda s: body(sender=s), 400, '"message" must be a string'),
    "message-null": (lambda s: body(sender=s, message=None), 400, '"message" must be a string'),
    "message-number": (lambda s: body(sender=s, message=42), 400, '"message" must be a string'),
    "message-list": (lambda s: body(sender=s, message=["hi"]), 400, '"message" must be a string'),
    "message-object": (lambda s: body(sender=s, message={"text": "hi"}), 400, '"message" must be a string'),
    "metadata-list": (lambda s: body(sender=s, message="hi", metadata=[1]), 400, '"metadata" must be'),
    "text/plain": (lambda s: raw(json.dumps({"sender": s, "message": "hi"}).encode(), "text/plain"), 415, "Content-Type: application/json"),
    "form-data": (lambda s: {"data": {"sender": s, "message": "hi"}}, 415, "Content-Type: application/json"),
    "multipart": (lambda s: {"files": {"message": ("m.txt", b"hi")}, "data": {"sender": s}}, 415, "Content-Type: application/json"),
    "no-content-type": (lambda s: {"data": json.dumps({"sender": s, "message": "hi"}).encode()}, 415, "Content-Type: application/json"),
    "application/xml": (lambda s: raw(b"<message>hi</message>", "application/xml"), 415, "Content-Type: application/json"),
}


@pytest.mark.parametrize("case", REQUESTS)
def test_a_request_that_is_not_a_message_gets_a_clear_error(servers, case):
    """A broken client learns what is wrong (4xx, {"error": ...}); nothing reaches the conversation."""
    arguments, status, error = REQUESTS[case]
    sender = new_patient()
    response = requests.post(servers.webhook, timeout=30, **arguments(sender))
    print(f"\n[rest] {case}: {response.status_code} {response.text[:100]}")
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert error in response.json()["error"]
    assert stored(servers.assistant, sender)[1] == []
    still_answers(servers)


def test_a_number_as_sender_is_read_as_its_digits(servers):
    """Rasa's REST channel takes a numeric sender: so does this one, as a string."""
    sender = uuid.uuid4().int % 10**12
    response = requests.post(servers.webhook, json={"sender": sender, "message": QUESTION}, timeout=30)
    assert response.status_code == 200 and response.json()[0]["recipient_id"] == str(sender)
    is_polite(Turn(response.json(), 0))
    assert stored(servers.assistant, str(sender))[1] == [QUESTION]
    still_answers(servers)


@pytest.mark.parametrize("chunked", [False, True], ids=["with-content-length", "chunked"])
def test_an_oversized_body_gets_413_and_the_server_lives(servers, chunked):
    """Over SANIC_REQUEST_MAX_SIZE (1 MB): refused before it is read (Sanic's default is 100 MB)."""
    sender = new_patient()
    data = json.dumps({"sender": sender, "message": "a" * (MAX_BODY + 500_000)}).encode()
    payload = (data[i:i + 65536] for i in range(0, len(data), 65536)) if chunked else data
    start = time.monotonic()
    response = requests.post(servers.webhook, data=payload, headers=JSON, timeout=30)
    print(f"\n[rest] {len(data)} bytes ({'chunked' if chunked else 'content-length'}): "
          f"{response.status_code} in {time.monotonic() - start:.3f}s {response.text[:100]}")
    assert response.status_code == 413
    assert "size limit" in response.json()["message"]
    assert stored(servers.assistant, sender)[1] == []
    still_answers(servers)


def test_a_body_just_under_the_limit_is_read_and_refused_politely(servers):
    """A 0.9 MB message is within SANIC_REQUEST_MAX_SIZE: the guard says "too long", at once."""
    sender, [turn] = rest_conversation(servers, ["b" * 900_000])
    print(f"\n[rest] 0.9 MB message: {turn.status} in {turn.seconds:.3f}s")
    is_polite(turn)
    assert turn.replies[0]["text"].startswith(TOO_LONG) and turn.seconds < 2
    assert stored(servers.assistant, sender)[1] == []
    still_answers(servers)


# ---------- socket: events that are not a message ----------

# id: (the event's data for a session id, what the patient sees, user texts stored in the session)
SOCKET_EVENTS = {
    "data-is-a-string": (lambda session: "what are the risks of a discogram?", EMPTY, []),
    "data-is-a-list": (lambda session: ["hi"], EMPTY, []),
    "no-data": (lambda session: NO_DATA, EMPTY, []),
    "no-message": (lambda session: {"session_id": session}, EMPTY, []),
    "message-number": (lambda session: {"message": 42, "session_id": session}, EMPTY, []),
    "message-list": (lambda session: {"message": ["hi"], "session_id": session}, EMPTY, []),
    "message-object": (lambda session: {"message": {"text": "hi"}, "session_id": session}, EMPTY, []),
    "metadata-not-an-object": (
        lambda session: {"message": QUESTION, "session_id": session, "metadata": [1]}, RISKS, [QUESTION]),
}


@pytest.mark.parametrize("case", SOCKET_EVENTS)
def test_a_malformed_socket_event_gets_a_polite_reply(servers, case):
    """A broken widget (or a script) still gets a polite word, never silence."""
    event, expected, expected_stored = SOCKET_EVENTS[case]
    session, [turn] = socket_conversation(servers, [event])
    texts = stored(servers.assistant, session)[1]
    show("socket", case, turn, texts)
    is_polite(turn)
    assert turn.replies[0]["text"].startswith(expected), turn.text
    assert texts == expected_stored
    still_answers(servers)


def test_an_oversized_socket_message_does_not_hurt_the_server(servers):
    """Over 1 MB on the socket: the transport refuses it (no reply: the widget caps messages at
    1000 characters); the server lives, and the next web chat conversation is answered."""
    _, [turn] = asyncio.run(_socket_conversation(servers.assistant.url, ["c" * 1_500_000], timeout=5))
    print(f"\n[socket] 1.5 MB message: {len(turn.replies)} replies")
    assert not turn.replies or turn.replies[0]["text"].startswith(TOO_LONG)
    _, [answer] = socket_conversation(servers, [QUESTION])
    is_polite(answer)
    assert answer.replies[0]["text"].startswith(RISKS)
    still_answers(servers)
