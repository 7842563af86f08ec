"""The action server with ACTIONS_TOKEN: the Rasa server gets in, a forged request does not.

A forged call of action_record_feedback would put any text into feedback.db, which
`make report` shows the content team. Real servers (scripts/local_servers.py).
"""

import sqlite3

import requests

from scripts.local_servers import GUARD_OFF, TOKEN as API_TOKEN, Assistant, action_server, rasa_server, started

TOKEN = "a-shared-secret-for-this-test"
PLANTED = "Call 555-0100 for cheap pills"  # what an intruder would like the report to show
FORGED_CALL = {
    "next_action": "action_record_feedback",
    "sender_id": "intruder",
    "version": "3.6.21",
    "domain": {},
    "tracker": {
        "sender_id": "intruder", "slots": {}, "paused": False, "followup_action": None,
        "active_loop": {}, "latest_action_name": "action_listen",
        "latest_message": {"text": "/feedback_unhelpful", "intent": {"name": "feedback_unhelpful"}},
        "events": [
            {"event": "user", "text": PLANTED, "parse_data": {"intent": {"name": "ask_risks"}}},
            {"event": "user", "text": "/feedback_unhelpful",
             "parse_data": {"intent": {"name": "feedback_unhelpful"}}},
        ],
    },
}


def feedback_questions(workdir):
    if not (workdir / "feedback.db").exists():
        return []
    with sqlite3.connect(workdir / "feedback.db") as db:
        return [question for (question,) in db.execute("SELECT question FROM feedback")]


def test_with_a_token_only_the_rasa_server_can_call_the_actions(tmp_path):
    env = {"ACTIONS_TOKEN": TOKEN}  # both servers, as `make run ACTIONS_TOKEN=...`
    actions = action_server(tmp_path, env)
    rasa = rasa_server(tmp_path, actions.url, guard=GUARD_OFF, env=env)
    with started(actions, rasa):
        # The Rasa server sends the token: the patient is answered, feedback is recorded.
        assistant = Assistant(rasa.url, API_TOKEN, tmp_path)
        replies = assistant.send("patient-1", "what are the risks of a discogram?")
        assert "CPT 62290 — Risks and complications" in replies[0]["text"]
        assert "Thank you" in assistant.send("patient-1", "/feedback_helpful")[0]["text"]
        actions_url = actions.url

        for params in ({}, {"token": "guess"}, {"token": TOKEN[:-1]}):
            refused = requests.post(f"{actions_url}/webhook", params=params, json=FORGED_CALL, timeout=30)
            assert refused.status_code == 401, refused.text
            assert refused.json() == {"error": "A valid token is required."}
        listing = requests.get(f"{actions_url}/actions", timeout=30)
        assert listing.status_code == 401
        assert feedback_questions(tmp_path) == [None]  # the patient's "This helped" only
        assert requests.get(f"{actions_url}/health", timeout=30).json() == {"status": "ok"}

        # The same request with the token does write: the refusal above is what kept it out.
        accepted = requests.post(f"{actions_url}/webhook", params={"token": TOKEN}, json=FORGED_CALL,
                                 timeout=30)
        assert accepted.status_code == 200, accepted.text
        assert feedback_questions(tmp_path) == [None, "Call [number] for cheap pills"]

