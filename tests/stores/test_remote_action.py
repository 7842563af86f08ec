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
