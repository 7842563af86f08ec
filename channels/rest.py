"""The REST channel (POST /webhooks/rest/webhook), with the request checked first.

credentials.yml: `channels.rest.RestInput:` instead of `rest:`. Same URL and reply
format as Rasa's: {"sender": "<id>", "message": "<text>"} in, a JSON list of bot
messages out. Differences:
- A request that is not a JSON object with a string `sender` and a string
  `message` gets a 4xx with a clear `error` (Rasa answers 500 or a bare 400).
- The message goes through the guard (channels/guard.py): a reply always comes;
  429 with the polite reply when the sender or address sends too fast.
- No streaming (`?stream=true`), and `input_channel` cannot be set by the client.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.guard import MessageGuard, Outcome

MAX_SENDER_CHARS = 128
# Control characters and lone surrogates: the tracker store cannot take them in a
# conversation id (SQLite: UnicodeEncodeError; PostgreSQL: NUL), and Rasa's SQL
# tracker store turns that ValueError into sys.exit: one request would stop the server.
UNSTORABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class RestInput(RasaRestInput):
    def __init__(self) -> None:
        self.guard = MessageGuard()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # The guard hands messages to the assistant itself (channels/guard.py, Turn).
        blueprint = Blueprint("rest_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body, problem = _read(request)
            if problem:
                return response.json({"error": problem[1]}, status=problem[0])
            collector = CollectingOutputChannel()
            message = UserMessage(body["message"], collector, body["sender"],
                                  input_channel=self.name(), metadata=body.get("metadata"))
            outcome = await self.guard.handle(message, request.remote_addr or request.ip)
            return response.json(collector.messages,
                                 status=429 if outcome is Outcome.RATE_LIMITED else 200)

        return blueprint


def _read(request: Request) -> tuple[dict, Optional[tuple[int, str]]]:
    """The request's JSON object, or (status, what is wrong with it)."""
    if "json" not in (request.content_type or "").lower():
        return {}, (415, 'Send JSON with "Content-Type: application/json".')
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own errors for bad JSON or UTF-8
        return {}, (400, "The body is not valid JSON (UTF-8).")
    if not isinstance(body, dict):
        return {}, (400, 'The body must be a JSON object: {"sender": "<id>", "message": "<text>"}.')
    sender = body.get("sender")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = body["sender"] = str(sender)
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        return {}, (400, f'"sender" must be a non-empty string of at most {MAX_SENDER_CHARS} characters.')
    if UNSTORABLE.search(sender):
        return {}, (400, '"sender" must not contain control characters or invalid Unicode.')
    if not isinstance(body.get("message"), str):
        return {}, (400, '"message" must be a string.')
    if not isinstance(body.get("metadata", {}), dict):
        return {}, (400, '"metadata" must be a JSON object.')
    return body, None
