"""Action server replies are checked as Rasa checks them, with the schema checked once."""

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from stores import remote_action

remote_action.install()  # as the tracker store does in the Rasa server (stores/sql.py)
ACTION = RemoteAction("action_answer_section", None)
GOOD = {"events": [{"event": "slot", "name": "procedure", "value": "62290"}],
        "responses": [{"text": "An answer", "buttons": [{"title": "More", "payload": "/tell_me_more"}]}]}
BAD = [{"events": "not a list"}, {"responses": "not a list"}, {"events": [{"no": "event"}]}]


def test_a_valid_reply_passes():
    assert ACTION._validate_action_result(GOOD) is True


@pytest.mark.parametrize("reply", BAD)
def test_an_invalid_reply_fails_with_rasas_error(reply):
    with pytest.raises(jsonschema.ValidationError) as ours:
        ACTION._validate_action_result(reply)
    with pytest.raises(jsonschema.ValidationError) as plain:
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
    assert ours.value.message.startswith(plain.value.message)
    assert "Failed to validate Action server response" in ours.value.message


EVENTS = [
    {"event": "slot", "name": "procedure", "value": "62290", "timestamp": 1.5},
    {"event": "slot", "name": "procedure"},  # no value
    {"event": "slot", "name": 3, "value": None},
    {"event": "bot", "text": "An answer", "data": {"buttons": []}, "metadata": {}},
    {"event": "bot", "metadata": "not an object"},
    {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1.0},
                                                   "entities": [{"entity": "procedure", "value": "x"}]}},
    {"event": "user", "parse_data": {"entities": [{"entity": "procedure"}]}},
    {"event": "action", "name": "action_listen", "policy": None, "confidence": None},
    {"event": "action", "hide_rule_turn": "yes"},
    {"event": "followup", "name": "action_answer_section"},
    {"event": "entities", "entities": []},
    {"event": "entities"},
    {"event": "session_started"},
    {"event": "no_such_event"},
    {"event": ["slot"]},
    {"event": None},
    {"name": "procedure", "value": "x"},
    "slot",
]


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("responses", [[], [{"text": "An answer"}], "not a list"])
def test_checked_by_kind_only_what_rasas_schema_accepts(event, responses):
    reply = {"events": [GOOD["events"][0], event], "responses": responses}
    try:
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
        valid = True
    except jsonschema.ValidationError:
        valid = False
    assert remote_action.passes_by_kind(reply) is valid
    if valid:
        assert ACTION._validate_action_result(reply) is True
    else:
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            ACTION._validate_action_result(reply)
