"""`make run`, as a clinic runs it: API behind a token, crashed servers come back,
conversations survive a restart, no message text in the output, no telemetry."""

import ipaddress
import os
import signal
import subprocess
import time

import psutil
import pytest
import requests

from tests.conftest import ROOT, eventually, free_port

NAME = "Zebulon Quixote"  # a patient's personal detail, which must not reach the logs
UNAVAILABLE = "I can't look that up right now"
CLEAN_ENVIRONMENT = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "CI") if name in os.environ}



def parent(pid):
    try:
        return psutil.Process(pid).ppid()
    except psutil.NoSuchProcess:  # gone since pgrep listed it
        return None

class MakeRun:
    def __init__(self, storage):
        self.storage = storage
        self.ports = {"RASA_PORT": free_port(), "ACTIONS_PORT": free_port(), "WEB_PORT": free_port()}
        self.url = f"http://127.0.0.1:{self.ports['RASA_PORT']}"
        self.output = storage / "make-run.log"
        self.process = None

    def start(self):
        variables = [f"{name}={value}" for name, value in self.ports.items()]
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"STORAGE={self.storage}", *variables],
            cwd=ROOT, stdout=self.output.open("w"), stderr=subprocess.STDOUT,
            env=CLEAN_ENVIRONMENT,  # not the settings `make test` exports: a clinic's shell
            stdin=subprocess.DEVNULL, start_new_session=True,  # Ctrl-C goes to the whole group
        )
        self.wait_until_up(timeout=240)

    def send(self, sender, text, timeout=30):
        response = requests.post(f"{self.url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": text}, timeout=timeout)
        assert response.status_code == 200, response.text
        return "\n".join(message.get("text", "") for message in response.json())

    def wait_until_up(self, timeout):
        """Polls both servers' health checks (not messages: those count against the
        clinic's rate limits, which `make run` keeps on)."""
        health = [f"{self.url}/", f"http://127.0.0.1:{self.ports['ACTIONS_PORT']}/health"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output.read_text()[-3000:]
            try:
                if all(requests.get(url, timeout=10).ok for url in health):
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.5)
        pytest.fail(f"make run not up after {timeout}s:\n{self.output.read_text()[-3000:]}")

    def pids(self, program):
        """The pids of the Rasa server (program "rasa") or `rasa run actions` started by make run."""
        pattern = {
            "rasa": f"rasa_without_jax run --model .* --port {self.ports['RASA_PORT']}",
            "actions": f"rasa run actions --port {self.ports['ACTIONS_PORT']}",
        }[program]
        found = [int(pid) for pid in
                 subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()]
        # With SANIC_WORKERS above 1 the workers have the same command line: the server
        # is the one process whose parent is not one of them.
        return [pid for pid in found if parent(pid) not in found]

    def pid(self, program):
        [found] = self.pids(program)
        return found

    def stop(self):
        os.killpg(self.process.pid, signal.SIGINT)  # what Ctrl-C does
        self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    running = MakeRun(tmp_path_factory.mktemp("make-run"))
    try:
        running.start()
        yield running
    finally:  # also when it never answered: nothing may be left running
        if running.process.poll() is None:
            running.stop()


def test_only_the_webhooks_are_public(make_run):
    token = (make_run.storage / "rasa-api-token").read_text().strip()
    assert len(token) >= 32
    assert (make_run.storage / "rasa-api-token").stat().st_mode & 0o077 == 0
    for method, path in [("GET", "/conversations/someone/tracker"), ("GET", "/status"),
                         ("POST", "/model/parse")]:
        without = requests.request(method, make_run.url + path, json={"text": "hi"}, timeout=10)
        assert without.status_code == 401, path
        wrong = requests.request(method, make_run.url + path, params={"token": "guess"},
                                 json={"text": "hi"}, timeout=10)
        assert wrong.status_code == 401, path
        right = requests.request(method, make_run.url + path, params={"token": token},
                                 json={"text": "hi"}, timeout=10)
        assert right.status_code == 200, path
    # Health checks for monitoring need no token.
    assert requests.get(make_run.url + "/", timeout=10).status_code == 200
    actions = f"http://127.0.0.1:{make_run.ports['ACTIONS_PORT']}/health"
    assert requests.get(actions, timeout=10).json() == {"status": "ok"}


def listening_addresses(port):
    """The local addresses with a socket listening on TCP `port` (what `ss -ltn` shows)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                # The kernel writes each 32-bit word of the address in host (little-endian) order.
                raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, width, 8))
                found.add(str(ipaddress.ip_address(raw)))
    return found


def test_the_action_server_listens_on_loopback_only(make_run):
    assert listening_addresses(make_run.ports["ACTIONS_PORT"]) == {"127.0.0.1"}
    # The Rasa server does listen on every address: its channels' webhooks are public.
    assert listening_addresses(make_run.ports["RASA_PORT"]) == {"0.0.0.0"}


def test_no_telemetry_from_any_server(make_run):
    for program in ("rasa", "actions"):
        environment = open(f"/proc/{make_run.pid(program)}/environ", "rb").read().split(b"\0")
        assert b"RASA_TELEMETRY_ENABLED=false" in environment, program


def test_crashes_are_survived_and_the_conversation_goes_on(make_run):
    reply = make_run.send("patient-1", f"My name is {NAME}. What are the risks of a discogram?")
    assert "Lumbar discography (discogram), CPT 62290 — Risks" in reply

    # The action server crashes: the patient is told at once, and it comes back.
    os.kill(make_run.pid("actions"), signal.SIGKILL)
    reply = make_run.send("patient-1", "how long does it take?")
    assert UNAVAILABLE in reply
    make_run.wait_until_up(timeout=120)
    assert "CPT 62290 — How long it takes" in make_run.send("patient-1", "how long does it take?")

    # The Rasa server crashes mid-conversation: restarted, it still knows the procedure.
    rasa = make_run.pid("rasa")
    os.kill(rasa, signal.SIGKILL)
    eventually(lambda: make_run.pids("rasa") not in ([], [rasa]), 60, "supervisord restarting the Rasa server")
    make_run.wait_until_up(timeout=240)
    assert "CPT 62290 — How to prepare" in make_run.send("patient-1", "and how do I prepare?")


def test_logs_hold_no_message_text_and_ctrl_c_stops_everything(make_run):
    make_run.send("patient-2", f"I am {NAME}, born 1961-04-05, does nucleoplasty hurt?")
    make_run.stop()
    output = make_run.output.read_text()
    assert NAME not in output and "1961-04-05" not in output
    assert "spawned: 'rasa'" in output  # the output is the servers' own
    ports = make_run.ports
    left = subprocess.run(["pgrep", "-f", f"--port ({ports['RASA_PORT']}|{ports['ACTIONS_PORT']})|"
                           f"http.server {ports['WEB_PORT']}"], capture_output=True, text=True)
    assert left.stdout == "", left.stdout


def test_a_made_token_that_begins_with_a_dash_works(make_run):
    """secrets.token_urlsafe begins with "-" once in 64 tokens: it must not read as an option."""
    if make_run.process.poll() is None:  # run on its own, not after the Ctrl-C test
        make_run.stop()
    token_file = make_run.storage / "rasa-api-token"
    token_file.write_text("-" + token_file.read_text())
    make_run.start()
    token = token_file.read_text().strip()
    assert requests.get(make_run.url + "/status", params={"token": token}, timeout=10).status_code == 200
