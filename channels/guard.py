"""Every patient message passes here, on every channel, before the assistant sees it.

- The text is cleaned (control characters, invalid Unicode) and NFKC-normalised.
- Empty and over-long messages get a polite reply without going through NLU (a
  100 KB message would keep the server busy for half a minute).
- A sender, or an address, that sends too fast gets a polite reply (counted in
  the lock store's Redis when there is one, so that replicas share the limits).
- "/intent{...}" texts (what buttons send) are only passed on as commands when
  the intent is one of the assistant's own and the entities are domain entities;
  anything else ("/restart", "/session_start", unknown slots) is read as words.
- Never silent: when the assistant produced no reply (action server down, an
  action raised) or none within `reply_timeout` seconds (action server slow),
  the patient gets "I can't look that up right now" with the clinic's number.
- The record is what the patient saw: that reply is stored in the conversation,
  as a bot event whose metadata names the cause ({"guard": "no_reply" | "timeout"
  | "error"}). Replies that come later than the timeout are not shown (the
  patient was told there is none), so they are not stored as said either: the
  late turn's actions and slots are kept, its bot messages are left out and
  counted in the fallback's metadata ("withheld_messages"). To do this the guard
  runs the turn itself (`Turn`, what Rasa's Agent.handle_message does), with the
  conversation in reach until it is saved.
- Every reply of its own is counted, without any text, in the feedback database
  for `make report` (kinds "guard_*").

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
from typing import Any, Deque, Dict, Optional, Set, Text

from rasa.core.actions.action import create_bot_utterance
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.lock_store import DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX, RedisLockStore
from rasa.shared.core.constants import DEFAULT_INTENTS
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from actions import feedback
from channels.parse_cache import ParseCache
from channels.redis_rate_limit import RedisRateLimiter
from channels.sqlite_rate_limit import SQLiteRateLimiter
from stores.sqlite_lock import SQLiteLockStore

logger = logging.getLogger(__name__)

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


# Why the guard answered instead of the assistant (bot event metadata "guard", report).
NO_REPLY = "no_reply"  # the turn ended without a reply: action server down, an action raised
TIMEOUT = "timeout"  # no reply within the reply timeout: action server slow
ERROR = "error"  # the turn itself failed in the Rasa server


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

    In memory, for one Rasa process (endpoints.yml); with a Redis lock store the
    replicas share channels.redis_rate_limit.RedisRateLimiter instead. The oldest
    keys are forgotten beyond `max_keys`.
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
        self._limiters: Optional[tuple[Any, Any]] = None  # per sender, per address
        self._late: Set[asyncio.Task] = set()

    def _rate_limiters(self, channel: str) -> tuple[Any, Any]:
        """Where messages are counted: in the lock store's Redis if it is one (every
        replica sees the same counts), in its SQLite file if it is that one (every
        worker does), else in this process. Chosen at the first
        message: the channels are made before Rasa loads the lock store."""
        if self._limiters is None:
            settings, lock_store = self.settings, _agent().lock_store
            if isinstance(lock_store, RedisLockStore):
                # "spineassistant:lock:" -> "spineassistant:ratelimit:sender:"
                prefix = lock_store.key_prefix[: -len(DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX)] + "ratelimit:"
                self._limiters = tuple(
                    RedisRateLimiter(lock_store.red, f"{prefix}{scope}:", limit, settings.window_seconds)
                    for scope, limit in (("sender", settings.messages_per_sender),
                                         ("address", settings.messages_per_address)))
            elif isinstance(lock_store, SQLiteLockStore):  # the workers of one machine
                # Counted per channel, as each channel's guard counts in memory.
                self._limiters = tuple(
                    SQLiteRateLimiter(lock_store, f"{channel}:{scope}", limit, settings.window_seconds)
                    for scope, limit in (("sender", settings.messages_per_sender),
                                         ("address", settings.messages_per_address)))
            else:
                self._limiters = (RateLimiter(settings.messages_per_sender, settings.window_seconds),
                                  RateLimiter(settings.messages_per_address, settings.window_seconds))
        return self._limiters

    async def handle(self, message: UserMessage, address: Optional[str] = None) -> Outcome:
        """Hands `message` to the assistant if it may; a reply always follows."""
        channel = message.input_channel or "unknown"
        per_sender, per_address = self._rate_limiters(channel)
        if not per_sender.allow(f"{channel}:{message.sender_id}") or (
            address and not per_address.allow(address)
        ):
            logger.warning("%s: a sender or address went over the rate limit.", channel)
            await self._say(message, "utter_guard_rate_limited")
            await _count("guard_rate_limited")
            return Outcome.RATE_LIMITED

        raw = message.text if isinstance(message.text, str) else ""
        # NFKC can make a text 18 times longer: a huge one is refused without cleaning.
        text = clean(raw) if len(raw) <= 4 * self.settings.max_message_chars else raw
        if not text:
            await self._say(message, "utter_guard_empty")
            await _count("guard_empty")
            return Outcome.REJECTED
        if len(text) > self.settings.max_message_chars:
            logger.info("%s: refused a message of %d characters.", channel, len(text))
            await self._say(message, "utter_guard_too_long", max_chars=self.settings.max_message_chars)
            await _count("guard_too_long")
            return Outcome.REJECTED

        output = message.output_channel
        # Made now, so that at the timeout it is shown and recorded in one step.
        fallback = await _reply(message.sender_id, "utter_guard_unavailable", output)
        watched = WatchedOutput(output)
        message.text = self._defuse_command(text)
        message.output_channel = watched
        turn = Turn(message, watched, fallback)
        task = asyncio.ensure_future(turn.run())
        done, _ = await asyncio.wait({task}, timeout=self.settings.reply_timeout)
        if task in done:
            if task.exception() is not None:
                _log_failure(channel, task.exception())
            elif watched.sent and turn.cause is None:
                return Outcome.ANSWERED
            cause = turn.cause or ERROR  # the turn stored the fallback, or could not store
        else:
            self._late.add(task)  # keep a reference until it ends
            task.add_done_callback(self._late_turn_ended)
            if watched.sent:  # the answer is on its way (a slow chat platform)
                return Outcome.ANSWERED
            logger.error("%s: no reply within %.1f s (action server slow?).",
                         channel, self.settings.reply_timeout)
            watched.closed = True
            turn.fallback_shown()
            cause = TIMEOUT
        await output.send_response(message.sender_id, fallback)
        await _count(f"guard_fallback_{cause}")
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
        output = message.output_channel
        await output.send_response(message.sender_id,
                                   await _reply(message.sender_id, response, output, **values))


class Turn:
    """One message through the assistant: what Rasa 3.6's Agent.handle_message does
    (the conversation's lock, MessageProcessor.handle_message for a Core model), with
    the guard's fallback recorded in the conversation before it is saved."""

    def __init__(self, message: UserMessage, watched: WatchedOutput, fallback: Dict[str, Any]) -> None:
        self.message, self.watched, self.fallback = message, watched, fallback
        self.tracker: Optional[DialogueStateTracker] = None
        self.shown: Optional[BotUttered] = None  # the fallback, shown while the turn ran
        self.cause: Optional[str] = None  # set when the fallback is recorded

    async def run(self) -> None:
        agent = _agent()
        async with agent.lock_store.lock(self.message.sender_id):
            processor = agent.processor
            await _parse(processor, self.message)
            tracker = await processor.log_message(self.message, should_save_tracker=False)
            self.tracker = tracker
            if self.shown is not None:  # shown while the turn waited for the lock
                tracker.update(self.shown)
            failed = True
            try:
                tracker = await processor.run_action_extract_slots(self.message.output_channel, tracker)
                await processor._run_prediction_loop(self.message.output_channel, tracker)
                await processor.run_anonymization_pipeline(tracker)
                failed = False
            finally:  # also when the turn failed: the patient's message and the fallback are kept
                self._settle(tracker, failed)
                await processor.save_tracker(tracker)

    def fallback_shown(self) -> None:
        """The fallback went to the patient while the turn runs: it goes into the conversation now."""
        self.shown = _bot_event(self.fallback, TIMEOUT)
        self.cause = TIMEOUT
        if self.tracker is not None:
            self.tracker.update(self.shown)

    def _settle(self, tracker: DialogueStateTracker, failed: bool) -> None:
        if self.shown is not None:  # what the turn said after the fallback was never shown
            events = list(tracker.events)
            after = next(i for i, event in enumerate(events) if event is self.shown)
            late = {id(event) for event in events[after + 1:] if isinstance(event, BotUttered)}
            if late:
                tracker.events = type(tracker.events)(e for e in events if id(e) not in late)
            self.shown.metadata["withheld_messages"] = len(late)
        elif failed or not self.watched.sent:
            self.cause = ERROR if failed else NO_REPLY
            tracker.update(_bot_event(self.fallback, self.cause))


PARSES = ParseCache()  # this process's, for every channel


async def _parse(processor: Any, message: UserMessage) -> None:
    """The message's parse_data, from the cache when the same text was parsed by this model."""
    if message.parse_data:
        return
    key = f"{processor.model_metadata.model_id}\0{message.text}"
    message.parse_data = PARSES.get(key)
    if message.parse_data is None:
        # As Rasa parses it in the turn (no component of the pipeline reads the tracker).
        message.parse_data = await processor.parse_message(message)
        PARSES.put(key, message.parse_data)


def _bot_event(reply: Dict[str, Any], cause: str) -> BotUttered:
    """The bot event for a reply of the guard, as Rasa makes one for a response."""
    return create_bot_utterance({**reply, "guard": cause})


async def _reply(sender_id: str, response: str, output: OutputChannel, **values: Any) -> Dict[str, Any]:
    """The domain's `response`, filled with the clinic's slots and `values`."""
    agent = _agent()
    tracker = DialogueStateTracker(sender_id, agent.domain.slots)
    reply = await agent.nlg.generate(response, tracker, output.name(), **values)
    if reply is None:  # a domain without the response: still never silent
        logger.error("domain.yml has no response %s", response)
        reply = {"text": "Sorry, I can't answer right now. Please contact your care team."}
    return reply


async def _count(kind: str) -> None:
    """One reply of the guard, for `make report`: the day and the kind, no text, no sender."""
    try:
        await asyncio.to_thread(feedback.record, kind, None, None, None)
    except Exception as error:  # noqa: BLE001 - counting must never cost the patient the reply
        logger.error("Could not count a %s in the feedback database (%s).", kind, type(error).__name__)


def _agent() -> Any:
    """The Rasa agent of this server (Rasa keeps it on its Sanic app)."""
    return Sanic.get_app().ctx.agent


def _log_failure(channel: str, error: BaseException) -> None:
    # The exception type only: its message could quote the patient's text.
    logger.error("%s: the assistant failed on a message (%s).", channel, type(error).__name__)
