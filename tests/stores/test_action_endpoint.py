"""The Rasa server keeps one connection to the action server open across messages
(stores/action_endpoint.py), through the real servers."""

import asyncio
import json
import uuid

import psutil
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from scripts.local_servers import GUARD_OFF, TOKEN, Assistant, action_server, rasa_server, started
from stores import action_endpoint

QUESTION = "what are the risks of a discogram?"
RISKS = "Lumbar discography (discogram), CPT 62290"


def connections_to(process: psutil.Process, port: int) -> set[int]:
    """Local ports of the process's open connections to `port`."""
    return {c.laddr.port for c in process.connections(kind="tcp")
            if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED}


def test_the_rasa_server_reuses_its_connection_to_the_action_server(tmp_path):
    actions = action_server(tmp_path)
    rasa = rasa_server(tmp_path, actions.url, guard=GUARD_OFF)
    with started(actions, rasa):
        assistant = Assistant(rasa.url, TOKEN, tmp_path)
        process = psutil.Process(rasa.process.pid)
        actions_port = int(actions.url.rsplit(":", 1)[1])
        seen: list[set[int]] = []
        # Rasa's own client closes its connection before the reply is sent; ours
        # keeps it for the next message. Polled over messages, not timed.
        for _ in range(10):
            replies = assistant.send(f"keepalive-{uuid.uuid4().hex[:8]}", QUESTION)
            assert any(RISKS in (m.get("text") or "") for m in replies), replies
            seen.append(connections_to(process, actions_port))
            if len(seen) > 1 and seen[-1] & seen[-2]:
                break
        assert len(seen) > 1 and seen[-1] & seen[-2], f"no connection kept across messages: {seen}"


def test_the_timeout_follows_the_guards():
    endpoint = action_endpoint.KeepAliveEndpoint(EndpointConfig("http://127.0.0.1:1/webhook", token="t"), 2.5)
    assert endpoint.timeout.sock_connect == 2.5
    assert endpoint.timeout.total == action_endpoint.LATE_TURN_FACTOR * 2.5
    assert endpoint.combine_parameters() == {"token": "t"}


@pytest.mark.parametrize("endpoint", [None, EndpointConfig("http://127.0.0.1:1/webhook")])
def test_remote_actions_get_the_keep_alive_endpoint_once_installed(endpoint):
    action_endpoint.install(2.5)
    action = RemoteAction("action_answer_section", endpoint)
    if endpoint is None:
        assert action.action_endpoint is None
    else:
        assert isinstance(action.action_endpoint, action_endpoint.KeepAliveEndpoint)
        assert RemoteAction("x", endpoint).action_endpoint is action.action_endpoint


def test_requests_carry_the_values_the_standard_json_writes():
    # What the action server reads: the conversation's events with their confidences
    # to the last digit, curly quotes, emoji and slashes.
    ranking = [{"name": f"intent_{i}", "confidence": 1 / (i + 1.37)} for i in range(10)]
    events = [
        ActionExecuted("action_listen"),
        UserUttered("what’s the risk of a discogram? “scared” 😟 and/or pain at 3 a.m.",
                    {"name": "ask_risks", "confidence": 0.9984988593788287},
                    [{"entity": "procedure", "value": "62290", "start": 20, "end": 29, "confidence": None}],
                    parse_data={"intent_ranking": ranking}),
        SlotSet("procedure", "62290"),
        BotUttered("Lumbar discography (discogram), CPT 62290: infection is rare (1/1000)."),
    ]
    state = DialogueStateTracker.from_events("patient/1", events).current_state(EventVerbosity.ALL)
    endpoint = action_endpoint.KeepAliveEndpoint(EndpointConfig("http://127.0.0.1:1/webhook"), 2.5)

    async def serialised() -> str:
        async with endpoint.session() as session:
            written = session.json_serialize(state)
            await session.close()
            return written

    assert json.loads(asyncio.run(serialised())) == json.loads(json.dumps(state))
