"""Starts the real action server and Rasa server (the trained model) for end-to-end tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
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
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} not up after {timeout}s:\n{log.read_text()[-3000:]}")


def start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=ROOT, env=ENV, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


@dataclass
class Assistant:
    url: str
    token: str

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


@pytest.fixture(scope="session")
def assistant(tmp_path_factory) -> Assistant:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} missing: run `make train` (or `make test`, which trains)")
    logs = tmp_path_factory.mktemp("servers")
    actions_port, rasa_port = free_port(), free_port()
    endpoints = logs / "endpoints.yml"
    endpoints.write_text(f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n")
    token = secrets.token_hex(16)
    processes = [
        start([str(RASA), "run", "actions", "--port", str(actions_port)], logs / "actions.log"),
        start(
            [str(RASA), "run", "--model", str(MODEL), "--port", str(rasa_port),
             "--endpoints", str(endpoints), "--credentials", "credentials.yml",
             "--enable-api", "--auth-token", token],
            logs / "rasa.log",
        ),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", processes[0], logs / "actions.log")
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", processes[1], logs / "rasa.log")
        yield Assistant(f"http://127.0.0.1:{rasa_port}", token)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
