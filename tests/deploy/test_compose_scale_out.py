"""docker-compose.yml's `scale-out` profile: two Rasa replicas and the action server, from the image.

No registry here serves PostgreSQL, Redis or nginx images, so those three are
Debian's, on loopback (scripts/local_services.py, as tests/test_scale_out.py
starts them), and nginx runs deploy/nginx/assistant.conf.template, filled in
as the nginx image does. The replicas are the Compose services rasa-1 and rasa-2.
"""

import http.client
import json
import re
import secrets
import shutil
import signal
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from scripts.local_servers import ROOT, free_port
from scripts.local_services import postgresql, redis
from tests.deploy.conftest import answers, compose_project, ports, rest, timed, wait_for
from tests.deploy.test_compose import DURATION, RISKS, Widget

pytestmark = pytest.mark.timeout(2400)
ADDRESS_LIMIT = 8
RATE_LIMITED = "You're sending messages faster than I can answer."
TEMPLATE = ROOT / "deploy" / "nginx" / "assistant.conf.template"


def fill_in(template: str, values: dict) -> str:
    """What the nginx image does with /etc/nginx/templates: ${NAME} of the given names only."""
    return re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


@contextmanager
def nginx(folder: Path, values: dict):
    folder.mkdir()
    (folder / "assistant.conf").write_text(fill_in(TEMPLATE.read_text(), values))
    # The nginx image's main file, in short: the site config included in `http`.
    (folder / "nginx.conf").write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
        f"  proxy_temp_path {folder}/proxy;\n  include {folder}/assistant.conf;\n}}\n"
    )
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([binary, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                "-e", str(folder / "error.log"), "-g", "daemon off;"])
    try:
        url = f"http://127.0.0.1:{values['NGINX_PORT']}"
        yield url
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful stop
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def replicas(image, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("scale-out")
    with postgresql(workdir) as database, redis(workdir) as lock_server:
        env = {**database.environment(), **lock_server.environment(),
               **ports("RASA_1_PORT", "RASA_2_PORT", "ACTIONS_PORT"), "RASA_API_TOKEN": secrets.token_hex(16),
               # For the per-address test; the other tests send fewer from any one address.
               # A window longer than the module: the counts do not depend on the machine's speed.
               "RATE_LIMIT_PER_ADDRESS": str(ADDRESS_LIMIT), "RATE_LIMIT_PER_SENDER": "0",
               "RATE_LIMIT_WINDOW_SECONDS": "3600"}
        with compose_project(image, workdir, env) as compose:
            with timed("compose scale-out: two replicas and actions healthy"):
                compose("--profile", "scale-out", "up", "--detach", "--no-build", "--no-deps",
                        "actions", "rasa-1", "rasa-2")
                for service in ("actions", "rasa-1", "rasa-2"):
                    wait_for(lambda: compose.health(service) == "healthy", 600, f"{service} healthy", compose.logs)
            values = {"NGINX_PORT": str(free_port()), "RASA_1": f"127.0.0.1:{env['RASA_1_PORT']}",
                      "RASA_2": f"127.0.0.1:{env['RASA_2_PORT']}"}
            with nginx(workdir / "nginx", values) as front:
                wait_for(lambda: answers(f"{front}/"), 60, "nginx in front of the replicas")
                compose.front = front
                compose.replica = {n: f"http://127.0.0.1:{env[f'RASA_{n}_PORT']}" for n in (1, 2)}
                compose.database = database
                yield compose


def stored_user_texts(replicas, sender: str) -> list[str]:
    connection = replicas.database.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT data::json->>'text' FROM events WHERE sender_id = %s "
                           "AND data::json->>'event' = 'user' ORDER BY id", [sender])
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def test_a_conversation_moving_between_the_replicas_keeps_its_context(replicas):
    patient = f"patient-{uuid.uuid4().hex[:8]}"
    assert rest(replicas.replica[1], patient, "what are the risks of a discogram?")[0]["text"].startswith(RISKS)
    assert rest(replicas.replica[2], patient, "and how long does it take?")[0]["text"].startswith(DURATION)
    assert stored_user_texts(replicas, patient) == ["what are the risks of a discogram?", "and how long does it take?"]


def test_the_widget_through_nginx_goes_on_when_a_replica_stops(replicas):
    widget = Widget(replicas.front)
    try:
        assert widget.ask("what are the risks of a discogram?")["text"].startswith(RISKS)
        # Long polling: every poll is a new request; sticky nginx keeps them on one replica.
        for _ in range(3):
            assert widget.ask("what are the risks of a discogram?")["text"].startswith(RISKS)
    finally:
        widget.close()
    with timed("compose stop rasa-1"):
        replicas("stop", "rasa-1")
    try:
        # Whichever replica had the widget: nginx now sends it to rasa-2, which reads
        # the conversation from PostgreSQL.
        widget = Widget(replicas.front, session_id=widget.session)
        try:
            assert widget.session == widget.sessions[0]
            assert widget.ask("and how long does it take?")["text"].startswith(DURATION)
        finally:
            widget.close()
        assert stored_user_texts(replicas, widget.session)[-1] == "and how long does it take?"
        assert len(stored_user_texts(replicas, widget.session)) == 5
    finally:
        replicas("start", "rasa-1")
        wait_for(lambda: answers(f"{replicas.replica[1]}/"), 600, "rasa-1 back", replicas.logs)
    assert requests.get(f"{replicas.front}/status", params={"token": replicas.env["RASA_API_TOKEN"]},
                        timeout=10).status_code == 200


def rest_from(address: str, url: str, sender: str, message: str) -> tuple[int, str]:
    """A REST message sent from `address` (any of 127.0.0.0/8 is this machine): status, first reply."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60, source_address=(address, 0))
    try:
        connection.request("POST", "/webhooks/rest/webhook", json.dumps({"sender": sender, "message": message}),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())[0]["text"]
    finally:
        connection.close()


def test_behind_nginx_the_limit_per_address_is_each_clients_own(replicas):
    """Two clients at other addresses: the first one's flood does not silence the second."""
    flooding, other = "127.0.0.3", "127.0.0.4"  # same /24: nginx's ip_hash sends both to one replica
    answers = [rest_from(flooding, replicas.front, f"patient-{uuid.uuid4().hex[:8]}",
                         "what are the risks of a discogram?") for _ in range(ADDRESS_LIMIT + 1)]
    assert all(status == 200 and text.startswith(RISKS) for status, text in answers[:ADDRESS_LIMIT]), answers
    status, text = answers[-1]
    assert status == 429 and text.startswith(RATE_LIMITED), answers[-1]
    status, text = rest_from(other, replicas.front, f"patient-{uuid.uuid4().hex[:8]}", "what are the risks of a discogram?")
    assert status == 200 and text.startswith(RISKS), (status, text)
