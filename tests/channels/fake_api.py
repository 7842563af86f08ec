"""Fake chat platform APIs (Slack Web API, Telegram Bot API) on 127.0.0.1, for the channel tests.

A FakeApi records every call the assistant makes (method, parameters, headers) and
answers through a function given by the test, like the real API would. The
assistant's servers are pointed at it with SLACK_API_URL / TELEGRAM_API_URL.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs

import pytest
import requests

from tests.conftest import ROOT, free_port

# Every variable credentials.yml reads: Rasa refuses to start if one is missing.
CHANNEL_VARIABLES = (
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
    "TELEGRAM_TOKEN", "TELEGRAM_BOT_NAME", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_SECRET_TOKEN",
    "TELEGRAM_API_URL",
)
PROJECT_CREDENTIALS = (ROOT / "credentials.yml").read_text()
REMINDER = "your own care team has the final word on your care"


def channel_env(**values: str) -> dict:
    """Environment for the servers: the channel variables as given, all others empty
    (as the Makefile does), and no HTTP proxy between the servers and the fakes."""
    env = {name: "" for name in CHANNEL_VARIABLES}
    env.update(values)
    env.update({"HTTP_PROXY": "", "HTTPS_PROXY": "", "http_proxy": "", "https_proxy": ""})
    return env


@dataclass
class Call:
    method: str  # e.g. "chat.postMessage", "sendMessage"
    params: dict
    headers: dict
    path: str
    answer: dict = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


# (method, params, headers, path) -> (HTTP status, JSON body)
Responder = Callable[[str, dict, dict, str], "tuple[int, dict]"]


class FakeApi:
    """An HTTP JSON API on 127.0.0.1:`port` (a free one unless given)."""

    def __init__(self, responder: Responder, method_from_path: Callable[[str], str],
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._responder = responder
        self._method_from_path = method_from_path
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> "FakeApi":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                content_type = self.headers.get("Content-Type", "")
                if "json" in content_type:
                    params = json.loads(body or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                method = fake._method_from_path(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = fake._responder(method, params, headers, self.path)
                with fake._lock:
                    fake.calls.append(Call(method, params, headers, self.path, answer))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def calls_to(self, method: str, where: Callable[[Call], bool] = lambda call: True) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method and where(call)]

    def wait_for(self, method: str, where: Callable[[Call], bool] = lambda call: True,
                 count: int = 1, timeout: float = 60) -> list[Call]:
        """The calls to `method` matching `where`, once there are `count` of them.

        The bot answers in the background: poll, but not forever.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method, where)
            if len(found) >= count:
                return found
            time.sleep(0.2)
        with self._lock:
            seen = [(c.method, c.params) for c in self.calls]
        pytest.fail(f"no {count} call(s) to {method} after {timeout}s; calls seen: {seen}")


def user_turns(assistant, sender: str) -> list[str]:
    """The messages of `sender` the assistant has processed (from its tracker)."""
    response = requests.get(f"{assistant.url}/conversations/{sender}/tracker",
                            params={"token": assistant.token}, timeout=30)
    response.raise_for_status()
    return [event.get("text") for event in response.json()["events"] if event["event"] == "user"]


def log_of(assistant) -> str:
    return Path(assistant.workdir, "rasa.log").read_text()


def wait_for_log(assistant, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log_of(assistant):
            return
        time.sleep(0.2)
    pytest.fail(f"{text!r} not in rasa.log after {timeout}s:\n{log_of(assistant)[-3000:]}")
