"""Every patient message passes here, on every channel, before the assistant sees it.

- The text is cleaned (control characters, invalid Unicode) and NFKC-normalised.
- Empty and over-long messages get a polite reply without going through NLU (a
  100 KB message would keep the server busy for half a minute).
- A sender, or an address, that sends too fast gets a polite reply.
- "/intent{...}" texts (what buttons send) are only passed on as commands when
  the intent is one of the assistant's own and the entities are domain entities;
  anything else ("/restart", "/session_start", unknown slots) is read as words.
- Never silent: when the assistant produced no reply (action server down, an
  action raised) or none within `reply_timeout` seconds (action server slow),
  the patient gets "I can't look that up right now" with the clinic's number.
  Replies that come later than that are dropped, so the patient never gets an
  answer after being told there is none; the turn is still stored.

The texts are the domain's responses (domain.yml, utter_guard_*), filled with the
clinic's numbers from the domain's slots. The settings come from environment
variables (docs/deployment.md, "Reliability and limits"). Message text is never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
import unicodedata
from collections import OrderedDict, deque
from dataclasses import dataclass
from enum import Enum
from typing import Any, Awaitable, Callable, Deque, Dict, Optional, Set, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.constants import DEFAULT_INTENTS
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

# "/intent" or "/intent{json}", as Rasa reads a message that starts with "/".
COMMAND = re.compile(r"/(?P<intent>[^{@\s]+)(?P<entities>\{.*\})?", re.DOTALL)
# Control characters but line breaks and tabs.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_ENTITY_VALUE_CHARS = 64


class Outcome(Enum):
    ANSWERED = "answered"
    REJECTED = "rejected"  # empty or too long: not shown to the assistant
    RATE_LIMITED = "rate_limited"
    FALLBACK = "fallback"  # the assistant could not answer in time


@dataclass(frozen=True)
class Settings:
    max_message_chars: int = 1000
    reply_timeout: float = 2.5
    messages_per_sender: int = 20  # per window; 0 = no limit
    messages_per_address: int = 120  # a waiting room shares one address
    window_seconds: float = 60.0

    @classmethod
    def from_environment(cls) -> "Settings":
        def number(name: str, default: float, kind: type = int) -> Any:
            value = os.environ.get(name, "").strip()
            try:
                return kind(value) if value else default
            except ValueError:
                raise ValueError(f"{name} must be a number, not {value!r}") from None

        defaults = cls()
        return cls(
            max_message_chars=number("MAX_MESSAGE_CHARS", defaults.max_message_chars),
            reply_timeout=number("REPLY_TIMEOUT_SECONDS", defaults.reply_timeout, float),
            messages_per_sender=number("RATE_LIMIT_PER_SENDER", defaults.messages_per_sender),
            messages_per_address=number("RATE_LIMIT_PER_ADDRESS", defaults.messages_per_address),
            window_seconds=number("RATE_LIMIT_WINDOW_SECONDS", defaults.window_seconds, float),
        )


class RateLimiter:
    """At most `limit` events per key in any `window` seconds (sliding window).

    In memory, per Rasa process; the oldest keys are forgotten beyond `max_keys`.
    (The `limits` library would do this, but needs a newer `packaging` than Rasa 3.6.)
    """

    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._events: OrderedDict[str, Deque[float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        if self.limit <= 0:
            return True
        now = time.monotonic()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        self._events[key] = events  # most recently used last
        if len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True


class WatchedOutput(OutputChannel):
    """Passes the assistant's replies on, counts them, and drops them once closed."""

    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel
        self.sent = 0
        self.closed = False

    def name(self) -> Text:  # type: ignore[override]  # channel-specific responses
        return self.channel.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        if self.closed:
            return
        self.sent += 1
        await self.channel.send_response(recipient_id, message)

    def __getattr__(self, attribute: str) -> Any:  # e.g. CollectingOutputChannel.messages
        return getattr(self.channel, attribute)


def clean(text: Any) -> str:
    """The text without control characters or invalid code points, NFKC-normalised."""
    if not isinstance(text, str):
        return ""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    return CONTROL.sub(" ", unicodedata.normalize("NFKC", text)).strip()


class MessageGuard:
    def __init__(self, settings: Optional[Settings] = None) -> None:
        self.settings = settings or Settings.from_environment()
        self._per_sender = RateLimiter(self.settings.messages_per_sender, self.settings.window_seconds)
        self._per_address = RateLimiter(self.settings.messages_per_address, self.settings.window_seconds)
        self._late: Set[asyncio.Task] = set()

    async def handle(
        self, message: UserMessage, on_new_message: OnNewMessage, address: Optional[str] = None
    ) -> Outcome:
        """Hands `message` to the assistant (`on_new_message`) if it may; a reply always follows."""
        channel = message.input_channel or "unknown"
        if not self._per_sender.allow(f"{channel}:{message.sender_id}") or (
            address and not self._per_address.allow(address)
        ):
            logger.warning("%s: a sender or address went over the rate limit.", channel)
            await self._say(message, "utter_guard_rate_limited")
            return Outcome.RATE_LIMITED

        raw = message.text if isinstance(message.text, str) else ""
        # NFKC can make a text 18 times longer: a huge one is refused without cleaning.
        text = clean(raw) if len(raw) <= 4 * self.settings.max_message_chars else raw
        if not text:
            await self._say(message, "utter_guard_empty")
            return Outcome.REJECTED
        if len(text) > self.settings.max_message_chars:
            logger.info("%s: refused a message of %d characters.", channel, len(text))
            await self._say(message, "utter_guard_too_long", max_chars=self.settings.max_message_chars)
            return Outcome.REJECTED

        output = message.output_channel
        watched = WatchedOutput(output)
        message.text = self._defuse_command(text)
        message.output_channel = watched
        task = asyncio.ensure_future(on_new_message(message))
        done, _ = await asyncio.wait({task}, timeout=self.settings.reply_timeout)
        if task in done:
            if task.exception() is not None:
                _log_failure(channel, task.exception())
            elif watched.sent:
                return Outcome.ANSWERED
        else:
            self._late.add(task)  # keep a reference until it ends
            task.add_done_callback(self._late_turn_ended)
            if watched.sent:  # the answer is on its way (a slow chat platform)
                return Outcome.ANSWERED
            logger.error("%s: no reply within %.1f s (action server slow?).",
                         channel, self.settings.reply_timeout)
            watched.closed = True
        message.output_channel = output
        await self._say(message, "utter_guard_unavailable")
        return Outcome.FALLBACK

    def _late_turn_ended(self, task: asyncio.Task) -> None:
        self._late.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log_failure("late turn", task.exception())

    @staticmethod
    def _defuse_command(text: str) -> str:
        """A button payload stays a command; any other "/..." text is read as words."""
        if not text.startswith("/"):
            return text
        command = COMMAND.fullmatch(text)
        if command is None:
            return text.lstrip("/ ") or "?"
        domain = _agent().domain
        allowed = command["intent"] in domain.intents and command["intent"] not in DEFAULT_INTENTS
        if allowed and command["entities"]:
            try:
                entities = json.loads(command["entities"])
            except ValueError:
                entities = None
            allowed = isinstance(entities, dict) and all(
                name in domain.entities
                and isinstance(value, str)
                and len(value) <= MAX_ENTITY_VALUE_CHARS
                and clean(value) == value  # no \u0000 or lone surrogate via a JSON escape
                for name, value in entities.items()
            )
        return text if allowed else text.lstrip("/ ") or "?"

    @staticmethod
    async def _say(message: UserMessage, response: str, **values: Any) -> None:
        """Sends the domain's `response`, filled with the clinic's slots and `values`."""
        agent = _agent()
        tracker = DialogueStateTracker(message.sender_id, agent.domain.slots)
        output = message.output_channel
        reply = await agent.nlg.generate(response, tracker, output.name(), **values)
        if reply is None:  # a domain without the response: still never silent
            logger.error("domain.yml has no response %s", response)
            reply = {"text": "Sorry, I can't answer right now. Please contact your care team."}
        await output.send_response(message.sender_id, reply)


def _agent() -> Any:
    """The Rasa agent of this server (Rasa keeps it on its Sanic app)."""
    return Sanic.get_app().ctx.agent


def _log_failure(channel: str, error: BaseException) -> None:
    # The exception type only: its message could quote the patient's text.
    logger.error("%s: the assistant failed on a message (%s).", channel, type(error).__name__)
