"""Property-based fuzzing (Hypothesis) of the whole path: REST, guard, NLU, policies, actions.

Hypothesis types what no test author would: any Unicode (control characters, lone
surrogates, unassigned code points), emoji and right-to-left text, "/intent{json}"
commands with odd entities, JSON fragments, very long messages, and real questions
wrapped in all of that. The properties, for a patient:

- every message gets a 200 and at least one reply with text, never a 500;
- the reply is the guard's "no text" or "too long" word exactly when the cleaned
  message is empty or over the limit, and otherwise the assistant's own answer,
  never the "can't look that up" fallback (which would mean it failed);
- nothing unstorable (control characters, lone surrogates) reaches the conversation;
- in a conversation of 3 to 5 such messages, mixed with real questions and button
  clicks, every message is answered, and a real question gets its real answer.

Bounded: 100 + 50 examples from a fixed seed (FUZZ_SEED to change it; printed),
no example database. Rate limits are off (one address sends everything).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Iterator

import pytest
import requests
import yaml
from hypothesis import HealthCheck, Phase, example, given, note, seed, settings
from hypothesis import strategies as st
from rasa.shared.core.constants import DEFAULT_INTENTS

from channels.guard import clean
from tests.conftest import GUARD_OFF, ROOT, Assistant, running_assistant

SEED = int(os.environ.get("FUZZ_SEED", "20261121"))
ENV = {"SANIC_REQUEST_MAX_SIZE": "1000000"}
MAX_CHARS = 1000  # MAX_MESSAGE_CHARS's default
FUZZ = settings(
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)

EMPTY = "I didn't get any text."
TOO_LONG = "That message is too long for me"
UNAVAILABLE = "Sorry, I can't look that up right now"
UNSTORABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
# A real question, and what its answer starts with (or contains), whatever came before.
QUESTIONS = {
    "what are the risks of a discogram?": "Lumbar discography (discogram), CPT 62290 — Risks",
    "how long does a nucleoplasty take?": "CPT 62287 — How long it takes",
    "tell me about the Racz procedure": "Epidural adhesiolysis (Racz procedure), CPT 62264",
    "how do I prepare for a discogram?": "CPT 62290 — How to prepare",
    "what is the recovery after an interspinous spacer?": "CPT +22870 — Recovery",
    "can I talk to a nurse?": DOMAIN["slots"]["clinic_phone"]["initial_value"],
}


# ---------- what is typed ----------

EMOJI_AND_RTL = st.sampled_from(
    list("😀🙏🏽👍🏿❤️🧑‍⚕️🦴💉")
    + list("אבגדהוזחטיכלמנסעפצקרשת؟،")
    + list("ابتثجحخدذرزسشصضطظعغفقكلمنهوي")
    + ["\u202e", "\u202b", "\u200f", "\u200d", "\ufeff", "\u0301", " "]
)
# Any code point; and, as often, the rare kinds: control and format characters, lone
# surrogates, private use, line separators, combining marks; and emoji or RTL letters.
ANY_CHARACTER = st.one_of(
    st.characters(categories=["L", "M", "N", "P", "S", "Z", "C"]),
    st.characters(categories=["Cc", "Cf", "Co", "Zl", "Zp", "Mn"]),
    st.characters(categories=["Cs"]),  # apart: among the others, Hypothesis hardly ever draws one
    EMOJI_AND_RTL,
)
ENTITY_NAMES = ["procedure", "other_topic", "clinic_phone", "emergency_number", "section", "requested_slot"]
INTENTS = DOMAIN["intents"] + list(DEFAULT_INTENTS) + ["", "nlu_fallback", "action_restart", "unknown_intent"]


def any_text(min_size: int = 0, max_size: int = 60) -> st.SearchStrategy[str]:
    # Not st.text(alphabet=ANY_CHARACTER): that merges the alphabets and almost never draws a surrogate.
    return st.lists(ANY_CHARACTER, min_size=min_size, max_size=max_size).map("".join)


garbage = any_text()
words_of_any_script = st.text(EMOJI_AND_RTL, min_size=1, max_size=40)
json_fragments = st.one_of(
    st.builds(json.dumps, st.dictionaries(
        st.one_of(st.sampled_from(ENTITY_NAMES), st.text(max_size=10)),
        st.one_of(any_text(max_size=80), st.integers(), st.none(), st.booleans(),
                  st.lists(st.integers(), max_size=3), st.sampled_from(["62290", "+22870", "01935", "666"])),
        max_size=3,
    )),
    st.sampled_from(['{', '}', '{"procedure":', '{"procedure": "62290"', '{}}', '[{"a": 1}]',
                     '{"procedure": null}', '\\u0000', '{"procedure": "62290"}@0.9', '{"a":' * 50]),
)
commands = st.builds(
    lambda slashes, intent, tail: slashes + intent + tail,
    st.sampled_from(["/", "//", " /", "/ "]), st.sampled_from(INTENTS),
    st.one_of(st.just(""), json_fragments, garbage),
)
long_messages = st.builds(  # 130 to 40,000 characters: mostly over the limit (a JSON body stays < 1 MB)
    lambda piece, times: piece * times, any_text(1, 8), st.integers(130, 5000)
)
questions_in_garbage = st.builds(
    lambda before, question, after: before + question + after,
    any_text(max_size=8), st.sampled_from(list(QUESTIONS)), any_text(max_size=8),
)
messages = st.one_of(garbage, words_of_any_script, json_fragments, commands, long_messages, questions_in_garbage)


# ---------- the servers ----------


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Iterator[Assistant]:
    print(f"\nfuzz seed: {SEED} (set FUZZ_SEED to try others)")
    with running_assistant(tmp_path_factory.mktemp("fuzz"), env=ENV, guard=GUARD_OFF) as running:
        yield running


def new_patient() -> str:
    return f"fuzz-{uuid.uuid4().hex[:12]}"


def say(assistant: Assistant, sender: str, message: str) -> list[dict]:
    """Posts `message`; checks what the patient sees whatever it was; returns the replies."""
    response = requests.post(
        f"{assistant.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
    )
    note(f"{message[:200]!r} ({len(message)} characters) -> {response.status_code} {response.text[:300]}")
    assert response.status_code == 200, response.text
    replies = response.json()
    assert isinstance(replies, list) and replies, "no reply"
    assert all(reply.get("recipient_id") == sender for reply in replies)
    texts = [reply.get("text") or "" for reply in replies]
    assert any(text.strip() for text in texts), "no reply with text"
    assert not any(UNSTORABLE.search(text) for text in texts), texts
    first = texts[0]
    cleaned = clean(message)
    if not cleaned:
        assert first.startswith(EMPTY), first
    elif len(cleaned) > MAX_CHARS:
        assert first.startswith(TOO_LONG), first
    else:
        assert not first.startswith((EMPTY, TOO_LONG)), first
        assert not any(text.startswith(UNAVAILABLE) for text in texts), "the assistant failed on it"
    return replies


def stored_texts(assistant: Assistant, sender: str) -> list[str]:
    events = assistant.tracker(sender)["events"]
    assert not {"restart", "rewind", "undo"} & {event["event"] for event in events}
    texts = [event["text"] for event in events if event["event"] == "user"]
    assert not any(UNSTORABLE.search(text) or len(text) > MAX_CHARS for text in texts), texts
    return texts


# ---------- the properties ----------


@settings(FUZZ, max_examples=100)
@seed(SEED)
@given(message=messages)
@example(message="")
@example(message="\x00")
@example(message="\ud800")
@example(message="/")
@example(message="/restart")
@example(message='/greet{"procedure":"x"}')
@example(message='/ask_risks{"procedure": 5}')
@example(message='/ask_risks{"procedure": "nonsense"}')
@example(message='/ask_risks{"other_topic": "\\u0000\\ud800"}')  # JSON escapes in an entity
@example(message="\ufdfa" * 100)  # NFKC: 1,800 characters
@example(message="🙏" * 1001)
def test_any_message_in_a_new_conversation_gets_a_reply(assistant, message):
    sender = new_patient()
    say(assistant, sender, message)
    texts = stored_texts(assistant, sender)
    cleaned = clean(message)
    assert len(texts) == (1 if cleaned and len(cleaned) <= MAX_CHARS else 0), texts


BUTTON = "<click a button of the last reply>"
turns = st.one_of(
    st.sampled_from(list(QUESTIONS)),
    messages,
    st.tuples(st.just(BUTTON), st.integers(0, 9)),
)


@settings(FUZZ, max_examples=50)
@seed(SEED)
@given(conversation=st.lists(turns, min_size=3, max_size=5))
@example(conversation=[
    "what are the risks of a discogram?", "/restart", "\ud800", (BUTTON, 0), "how long does a nucleoplasty take?"
])
@example(conversation=['/ask_risks{"clinic_phone":"666"}', "", "can I talk to a nurse?"])
def test_a_conversation_of_questions_garbage_and_clicks_is_answered_throughout(assistant, conversation):
    sender, buttons = new_patient(), []
    for turn in conversation:
        if isinstance(turn, tuple):  # the patient clicks a button the assistant just showed
            if not buttons:
                continue
            turn = buttons[turn[1] % len(buttons)]["payload"]
        replies = say(assistant, sender, turn)
        buttons = [button for reply in replies for button in reply.get("buttons") or []]
        if turn in QUESTIONS:
            shown = "\n".join(reply.get("text") or "" for reply in replies)
            assert QUESTIONS[turn] in shown, shown
    stored_texts(assistant, sender)
