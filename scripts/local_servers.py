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

import requests

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv" / "bin" / "rasa"
MODEL = ROOT / "models" / "assistant.tar.gz"
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


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
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not up after {timeout}s:\n{log.read_text()[-3000:]}")


def start(args: list[str], log: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


@dataclass
class Assistant:
    url: str
    token: str  # for the Rasa HTTP API (/model/parse, trackers)
    workdir: Path  # holds rasa.log and actions.log

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


@contextmanager
def running_assistant(
    workdir: Path, credentials: str = "rest:\n", env: dict | None = None
) -> Iterator[Assistant]:
    """The real action server and Rasa server (trained model) on free ports.

    `credentials` is the text of the credentials file to use; `env` adds
    environment variables (e.g. a channel's token) for both servers.
    """
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} missing: run `make train` (or `make test`, which trains)")
    actions_port, rasa_port = free_port(), free_port()
    (workdir / "endpoints.yml").write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
    )
    (workdir / "credentials.yml").write_text(credentials)
    token = secrets.token_hex(16)
    # Feedback goes to this run's folder, not the clinic's storage/.
    environment = {**ENV, "FEEDBACK_DB": str(workdir / "feedback.db"), **(env or {})}
    processes = [
        start([str(RASA), "run", "actions", "--port", str(actions_port)],
              workdir / "actions.log", environment),
        start(
            [str(RASA), "run", "--model", str(MODEL), "--port", str(rasa_port),
             "--endpoints", str(workdir / "endpoints.yml"),
             "--credentials", str(workdir / "credentials.yml"),
             "--enable-api", "--auth-token", token],
            workdir / "rasa.log", environment,
        ),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", processes[0], workdir / "actions.log")
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", processes[1], workdir / "rasa.log")
        yield Assistant(f"http://127.0.0.1:{rasa_port}", token, workdir)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
