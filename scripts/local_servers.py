"""Starts the real action server and Rasa server (the trained model) on free local ports.

Used by the end-to-end tests (tests/conftest.py) and the benchmarks (bench/).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv" / "bin" / "rasa"
PYTHON = ROOT / ".venv" / "bin" / "python"
MODEL = ROOT / "models" / "assistant.tar.gz"
ENDPOINTS = ROOT / "endpoints.yml"
REST_ONLY = "channels.rest.RestInput:\n"  # credentials.yml text: the REST channel alone
TOKEN = secrets.token_hex(16)  # the Rasa HTTP API token of the servers started here
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}

# The guard's settings (channels/guard.py) for servers whose tests are not about the
# guard. Every test's messages come from 127.0.0.1, and how many fall inside one
# rate-limit window depends on the machine's speed: no rate limits. Nor a reply
# timeout that a slow machine's normal answer could reach.
GUARD_OFF = {"RATE_LIMIT_PER_SENDER": "0", "RATE_LIMIT_PER_ADDRESS": "0", "REPLY_TIMEOUT_SECONDS": "60"}
# The production defaults (the guard's own), for what measures or tests them.
GUARD_DEFAULTS: dict = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        # Timeout: with several Sanic workers, the socket accepts before a worker serves.
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)  # `make bench` times the start until this sees the server up
    raise RuntimeError(f"{url} not up after {timeout}s:\n{log.read_text()[-3000:]}")


@dataclass
class Assistant:
    url: str
    token: str  # for the Rasa HTTP API (/model/parse, trackers)
    workdir: Path  # holds the servers' logs, the tracker store and feedback databases

    def send(self, sender: str, message: str) -> list[dict]:
        """What the patient sees after sending `message` on the REST channel."""
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> dict:
        response = requests.post(
            f"{self.url}/model/parse", params={"token": self.token}, json={"text": text}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict:
        response = requests.get(
            f"{self.url}/conversations/{sender}/tracker", params={"token": self.token}, timeout=30
        )
        response.raise_for_status()
        return response.json()


def server_environment(workdir: Path, action_url: str, env: dict | None = None) -> dict:
    """What endpoints.yml reads, pointed at this run's folder: the clinic's storage/ stays untouched."""
    return {
        **ENV,
        "ACTION_SERVER_URL": f"{action_url}/webhook",
        "TRACKER_DB": str(workdir / "conversations.db"),
        "FEEDBACK_DB": str(workdir / "feedback.db"),
        "ACTIONS_TOKEN": "",  # none, as `make run`'s default (the servers listen on 127.0.0.1)
        "SANIC_HOST": "127.0.0.1",
        # One Rasa process unless a test or benchmark asks for more: a test that kills
        # the server kills all of it (`make run` chooses one per core, Makefile).
        "SANIC_WORKERS": "1",
        **(env or {}),
    }


@dataclass
class Server:
    """One server process, which a test can stop (or kill) and start again on the same port."""

    args: list[str]
    url: str
    health_url: str
    log: Path
    env: dict
    process: subprocess.Popen | None = None
    root: Path = ROOT  # the project it serves (a copy, for an added procedure)

    def start(self) -> None:
        self.launch()
        self.wait_until_up()

    def launch(self) -> None:
        """Starts the process without waiting for it to be up (wait_until_up)."""
        log = self.log.open("a")
        self.process = subprocess.Popen(
            self.args, cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def wait_until_up(self) -> None:
        wait_until_up(self.health_url, self.process, self.log)

    def stop(self, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # Sanic's workers (SANIC_WORKERS > 1) can outlive their parent: ended after it.
        try:
            workers = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:  # exited since poll()
            workers = []
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        _, alive = psutil.wait_procs(workers, timeout=10)
        for worker in alive:
            worker.kill()


def action_server(workdir: Path, env: dict | None = None, name: str = "actions", root: Path = ROOT) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return Server(
        [str(RASA), "run", "actions", "--port", str(port)], url, f"{url}/health",
        workdir / f"{name}.log", server_environment(workdir, url, env), root=root,
    )


def rasa_server(
    workdir: Path,
    action_url: str,
    *,
    guard: dict,
    credentials: str = REST_ONLY,
    endpoints: Path = ENDPOINTS,
    env: dict | None = None,
    name: str = "rasa",
    model: Path = MODEL,
    root: Path = ROOT,
) -> Server:
    """The Rasa server with the trained model, the API on (behind a token) for the tests.

    `guard` is the guard's settings (GUARD_OFF, or the limits a test is about):
    required, so that every caller states the limits it relies on.
    """
    if not model.exists():
        raise RuntimeError(f"{model} missing: run `make train` (or `make test`, which trains)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    credentials_file = workdir / f"{name}-credentials.yml"
    credentials_file.write_text(credentials)
    return Server(
        [str(PYTHON), "-m", "scripts.rasa_without_jax", "run", "--model", str(model), "--port", str(port),
         "--endpoints", str(endpoints), "--credentials", str(credentials_file),
         "--enable-api", "--auth-token", TOKEN],
        url, f"{url}/", workdir / f"{name}.log",
        server_environment(workdir, action_url, {**guard, **(env or {})}), root=root,
    )


@contextmanager
def started(*servers: Server) -> Iterator[None]:
    """Starts the servers in order; stops them all at the end."""
    try:
        for server in servers:
            server.start()
        yield
    finally:
        for server in reversed(servers):
            server.stop()


@contextmanager
def running_assistant(
    workdir: Path, credentials: str = REST_ONLY, env: dict | None = None, *, guard: dict,
    root: Path = ROOT,
) -> Iterator[Assistant]:
    """The real action server and Rasa server (trained model, endpoints.yml) on free ports.

    `credentials` is the text of the credentials file to use; `env` adds
    environment variables (e.g. a channel's token) for both servers; `guard` is
    the guard's settings, as for rasa_server; `root` the project folder to serve.
    """
    actions = action_server(workdir, env, root=root)
    rasa = rasa_server(workdir, actions.url, guard=guard, credentials=credentials, env=env,
                       model=root / "models" / "assistant.tar.gz", root=root)
    with started(actions, rasa):
        yield Assistant(rasa.url, TOKEN, workdir)
