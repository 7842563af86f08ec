"""Two Rasa replicas with endpoints.scale-out.yml: conversations in PostgreSQL, locks in Redis.

Real servers: a PostgreSQL and a Redis server (scripts/local_services.py), one
action server and two Rasa servers with the trained model, as a hospital group
would run them behind a load balancer. Whichever replica a message reaches, the
patient must see one coherent conversation.
"""

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest
import requests

from scripts.local_servers import GUARD_OFF, TOKEN, Assistant, Server, action_server, rasa_server, started
from scripts.local_services import PostgreSQL, postgresql, redis
from tests.conftest import ROOT

ENDPOINTS = ROOT / "endpoints.scale-out.yml"

# (how the patient names it, the start of every answer about it)
PROCEDURES = [
    ("a discogram", "Lumbar discography (discogram), CPT 62290"),
    ("nucleoplasty", "Percutaneous disc decompression (nucleoplasty), CPT 62287"),
    ("the Racz procedure", "Epidural adhesiolysis (Racz procedure), CPT 62264"),
    ("an interspinous spacer", "Interspinous spacer, second level (lumbar), CPT +22870"),
    ("anesthesia for spine imaging", "Anesthesia for a diagnostic image-guided spine procedure, CPT 01935"),
]
QUESTIONS = [
    "what are the risks of {}?",
    "how long does {} take?",
    "how do I prepare for {}?",
    "what is the recovery like after {}?",
]


@dataclass
class Replicas:
    a: Assistant
    b: Assistant
    database: PostgreSQL

    def events(self, *senders: str) -> dict[str, list[dict]]:
        """Each conversation's events as PostgreSQL holds them, in the order stored."""
        connection = self.database.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT sender_id, data FROM events WHERE sender_id = ANY(%s) ORDER BY id", [list(senders)]
                )
                rows = cursor.fetchall()
        finally:
            connection.close()
        events = {sender: [] for sender in senders}
        for sender, data in rows:
            events[sender].append(json.loads(data))
        return events


@dataclass
class Services:
    """PostgreSQL, Redis and the action server, which every pair of replicas shares."""

    workdir: Path
    database: PostgreSQL
    env: dict
    actions: Server


@pytest.fixture(scope="module")
def services(tmp_path_factory) -> Iterator[Services]:
    workdir = tmp_path_factory.mktemp("scale-out")
    with postgresql(workdir) as database, redis(workdir) as lock_server:
        env = {**database.environment(), **lock_server.environment()}
        actions = action_server(workdir, env)
        with started(actions):
            yield Services(workdir, database, env, actions)


@contextmanager
def two_replicas(services: Services, guard: dict, name: str) -> Iterator[Replicas]:
    a, b = (rasa_server(services.workdir, services.actions.url, guard=guard, endpoints=ENDPOINTS,
                        env=services.env, name=f"{name}-{replica}")
            for replica in "ab")
    with started(a, b):
        yield Replicas(Assistant(a.url, TOKEN, services.workdir),
                       Assistant(b.url, TOKEN, services.workdir), services.database)


@pytest.fixture(scope="module")
def replicas(services) -> Iterator[Replicas]:
    # Messages wait for their conversation's lock on purpose: no reply timeout.
    with two_replicas(services, GUARD_OFF, "rasa") as running:
        yield running


def new_patient() -> str:
    return f"patient-{uuid.uuid4().hex[:8]}"


def texts(replies: list[dict]) -> list:
    return [reply.get("text") for reply in replies]


def turns(events: list[dict]) -> list[list[dict]]:
    """The events from each user message up to the next one."""
    result = []
    for event in events:
        if event["event"] == "user":
            result.append([])
        if result:
            result[-1].append(event)
    return result


def test_a_conversation_moving_between_replicas_keeps_its_context(replicas):
    patient = new_patient()
    risks = replicas.a.send(patient, "what are the risks of a discogram?")
    assert risks[0]["text"].startswith("Lumbar discography (discogram), CPT 62290 — Risks and complications:")
    duration = replicas.b.send(patient, "and how long does it take?")
    assert duration[0]["text"].startswith("Lumbar discography (discogram), CPT 62290 — How long it takes:")
    other = replicas.a.send(patient, "what about nucleoplasty?")
    assert other[0]["text"].startswith(
        "Percutaneous disc decompression (nucleoplasty), CPT 62287 — How long it takes:"
    )
    # Both replicas read the same conversation from PostgreSQL.
    events = replicas.a.tracker(patient)["events"]
    assert events == replicas.b.tracker(patient)["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == [
        "what are the risks of a discogram?", "and how long does it take?", "what about nucleoplasty?"
    ]


def test_simultaneous_messages_to_both_replicas_are_handled_one_at_a_time(replicas):
    """Ten messages of one conversation sent at once, half to each replica (eight such conversations)."""
    patients = [new_patient() for _ in range(8)]
    messages = [question.format(name) for name, _ in PROCEDURES for question in QUESTIONS[:2]]
    sends = [(patient, message) for patient in patients for message in messages]
    start = threading.Barrier(len(sends))

    def send(numbered: tuple[int, tuple[str, str]]) -> Optional[list[dict]]:
        n, (patient, message) = numbered
        start.wait()
        try:
            return (replicas.a, replicas.b)[n % 2].send(patient, message)
        except requests.Timeout:
            return None

    with ThreadPoolExecutor(len(sends)) as pool:
        replies = dict(zip(sends, pool.map(send, enumerate(sends))))

    waited = [send for send, reply in replies.items() if reply is None]
    assert not waited, f"no reply within 30 s (a conversation's lock never freed?): {waited}"
    stored = replicas.events(*patients)
    for patient in patients:
        conversation = turns(stored[patient])
        assert sorted(turn[0]["text"] for turn in conversation) == sorted(messages), patient
        for turn in conversation:
            answer = replies[patient, turn[0]["text"]]
            # The message's own answer, and nothing of another message's turn in between.
            assert [e.get("text") for e in turn if e["event"] == "bot"] == texts(answer), turn
            actions = [e["name"] for e in turn if e["event"] == "action"]
            assert actions[-1] == "action_listen" and actions.count("action_listen") == 1, turn
            assert answer[0]["text"].startswith(next(label for name, label in PROCEDURES if name in turn[0]["text"]))
        assert [e["event"] for e in stored[patient]].count("session_started") == 1, patient
    # The API of either replica shows what PostgreSQL holds.
    tracker_events = replicas.b.tracker(patients[0])["events"]
    assert [(e["event"], e["timestamp"]) for e in tracker_events] == [
        (e["event"], e["timestamp"]) for e in stored[patients[0]]
    ]


def test_many_conversations_over_both_replicas_are_stored_completely(replicas):
    """50 patients, 10 questions each, every other one to the other replica, 12 at a time."""
    questions = [question.format(name) for question in QUESTIONS for name, _ in PROCEDURES]
    conversations = {
        new_patient(): [questions[(n + i) % len(questions)] for i in range(10)] for n in range(50)
    }

    def converse(numbered: tuple[int, str]) -> tuple[str, list[list[dict]]]:
        n, patient = numbered
        return patient, [
            (replicas.a, replicas.b)[(n + i) % 2].send(patient, message)
            for i, message in enumerate(conversations[patient])
        ]

    with ThreadPoolExecutor(12) as pool:
        replies = dict(pool.map(converse, enumerate(conversations)))

    stored = replicas.events(*conversations)
    assert sum(e["event"] == "user" for events in stored.values() for e in events) == 500
    for patient, messages in conversations.items():
        events = stored[patient]
        assert [e["text"] for e in events if e["event"] == "user"] == messages, patient
        for message, answer in zip(messages, replies[patient]):  # about what was asked
            assert answer and next(label for name, label in PROCEDURES if name in message) in answer[0]["text"]
        answered = [reply for turn in replies[patient] for reply in turn]
        assert [e.get("text") for e in events if e["event"] == "bot"] == texts(answered), patient
        assert [len(turn) for turn in turns(events)] == [
            len(turn) for turn in turns(replicas.a.tracker(patient)["events"])
        ], patient


def test_two_replicas_enforce_one_rate_limit(services):
    """A sender alternating between the replicas is limited at the configured number,
    not twice that: the counts are in Redis, shared (channels/redis_rate_limit.py)."""
    per_sender, per_address = 3, 5
    # A window longer than any run: what is counted does not depend on the machine's speed.
    guard = {"RATE_LIMIT_PER_SENDER": str(per_sender), "RATE_LIMIT_PER_ADDRESS": str(per_address),
             "RATE_LIMIT_WINDOW_SECONDS": "3600", "REPLY_TIMEOUT_SECONDS": "60"}

    def post(replica: Assistant, patient: str, message: str) -> int:
        return requests.post(f"{replica.url}/webhooks/rest/webhook", timeout=60,
                             json={"sender": patient, "message": message}).status_code

    with two_replicas(services, guard, "limited") as limited:
        first = new_patient()
        questions = [question.format("a discogram") for question in QUESTIONS]
        statuses = [post((limited.a, limited.b)[n % 2], first, text) for n, text in enumerate(questions)]
        assert statuses == [200] * per_sender + [429], statuses
        stored = [e["text"] for e in limited.events(first)[first] if e["event"] == "user"]
        assert stored == questions[:per_sender]  # the limited message never reached the assistant
        # Every patient here shares 127.0.0.1: the address's limit counts over both replicas too.
        second = new_patient()
        statuses = [post((limited.b, limited.a)[n % 2], second, text) for n, text in enumerate(questions)]
        assert statuses == [200] * (per_address - per_sender) + [429] * (len(questions) - 2), statuses
