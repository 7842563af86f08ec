"""`docker compose up` (the default: Rasa server, action server, demo page, SQLite in a volume).

The image built by `make image`, started by Compose on free loopback ports:
questions over REST and over the widget's socket.io, a restart of the Rasa
container, and the conversations going on where they were.
"""

import secrets
import uuid

import pytest
import requests
import socketio

from tests.deploy.conftest import answers, compose_project, ports, rest, timed, wait_for

ORIGIN = "http://localhost:8080"  # the demo page's origin, which credentials.yml allows
RISKS = "Lumbar discography (discogram), CPT 62290 — Risks and complications:"
DURATION = "Lumbar discography (discogram), CPT 62290 — How long it takes:"

pytestmark = pytest.mark.timeout(2400)  # a first build on a new machine included


class Widget:
    """The chat widget's side of socket.io (long polling, as behind strict proxies)."""

    def __init__(self, url: str, session_id: str | None = None) -> None:
        self.client = socketio.Client(reconnection=False)
        self.sessions: list[str] = []
        self.replies: list[dict] = []
        self.client.on("session_confirm", self.sessions.append)
        self.client.on("bot_uttered", self.replies.append)
        self.client.connect(url, headers={"Origin": ORIGIN}, transports=["polling"], wait_timeout=30)
        self.client.emit("session_request", {"session_id": session_id})
        wait_for(lambda: self.sessions, 30, "session_confirm")
        self.session = self.sessions[0]

    def ask(self, text: str) -> dict:
        seen = len(self.replies)
        self.client.emit("user_uttered", {"message": text, "session_id": self.session})
        wait_for(lambda: len(self.replies) > seen, 60, f"a reply to {text!r}")
        return self.replies[seen]

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture(scope="module")
def deployment(image, tmp_path_factory):
    env = {**ports("RASA_PORT", "ACTIONS_PORT", "WEB_PORT"), "RASA_API_TOKEN": "-" + secrets.token_hex(16)}  # "-": not an option
    with compose_project(image, tmp_path_factory.mktemp("compose"), env) as compose:
        compose.url = f"http://127.0.0.1:{env['RASA_PORT']}"
        compose.web = f"http://127.0.0.1:{env['WEB_PORT']}"
        with timed("docker compose up, until all three are healthy"):
            compose("up", "--detach", "--no-build")
            for service in ("actions", "rasa", "web"):
                # The image's own HEALTHCHECK (deploy/healthcheck.py) says so.
                wait_for(lambda: compose.health(service) == "healthy", 600, f"{service} healthy", compose.logs)
        yield compose


def tracker_texts(deployment, sender: str) -> list[str]:
    response = requests.get(f"{deployment.url}/conversations/{sender}/tracker",
                            params={"token": deployment.env["RASA_API_TOKEN"]}, timeout=30)
    response.raise_for_status()
    return [event["text"] for event in response.json()["events"] if event["event"] == "user"]


def test_the_servers_run_as_a_user_with_telemetry_off(deployment):
    for service in ("actions", "rasa", "web"):
        container = deployment.container(service)
        user = deployment("exec", "-T", service, "id", "-un").stdout.strip()
        assert user == "rasa", (service, user)
        telemetry = deployment("exec", "-T", service, "printenv", "RASA_TELEMETRY_ENABLED").stdout.strip()
        assert telemetry == "false", (service, container)


def test_the_demo_page_and_the_widget_files_are_served(deployment):
    page = requests.get(deployment.web, timeout=10)
    assert page.status_code == 200 and 'src="widget.js"' in page.text
    for name in ("widget.js", "widget.css", "socket.io.min.js"):
        assert requests.get(f"{deployment.web}/{name}", timeout=10).status_code == 200, name


def test_the_http_api_needs_the_token(deployment):
    assert requests.get(f"{deployment.url}/status", timeout=10).status_code == 401
    ok = requests.get(f"{deployment.url}/status", params={"token": deployment.env["RASA_API_TOKEN"]}, timeout=10)
    assert ok.status_code == 200


def test_conversations_over_rest_and_socketio_survive_a_restart_of_the_rasa_container(deployment):
    patient = f"patient-{uuid.uuid4().hex[:8]}"
    assert rest(deployment.url, patient, "what are the risks of a discogram?")[0]["text"].startswith(RISKS)
    widget = Widget(deployment.url)
    try:
        assert widget.ask("what are the risks of a discogram?")["text"].startswith(RISKS)
    finally:
        widget.close()

    before = deployment.container("rasa")
    started_at = deployment("exec", "-T", "rasa", "cat", "/proc/1/stat").stdout.split()[21]
    with timed("docker compose restart rasa, until it answers"):
        deployment("restart", "rasa")
        wait_for(lambda: answers(f"{deployment.url}/"), 600, "Rasa back after the restart", deployment.logs)
    assert deployment.container("rasa") == before  # the same container, started again
    assert deployment("exec", "-T", "rasa", "cat", "/proc/1/stat").stdout.split()[21] != started_at

    # The follow-up question needs the procedure of the first one: kept in SQLite, in the volume.
    assert rest(deployment.url, patient, "and how long does it take?")[0]["text"].startswith(DURATION)
    assert tracker_texts(deployment, patient) == ["what are the risks of a discogram?", "and how long does it take?"]
    widget = Widget(deployment.url, session_id=widget.session)  # the widget reconnects with its session
    try:
        assert widget.session == widget.sessions[0]
        assert widget.ask("and how long does it take?")["text"].startswith(DURATION)
    finally:
        widget.close()
    assert tracker_texts(deployment, widget.session) == [
        "what are the risks of a discogram?", "and how long does it take?"
    ]
