"""Helpers shared by the project's chat connectors (Slack, Telegram)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Hashable, Iterable, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


def setting(credentials: Optional[dict], key: str) -> str:
    """A connector setting from credentials.yml as a string ("" when unset or empty).

    credentials.yml fills the settings from environment variables (`${VAR}`), which
    the Makefile defaults to empty: empty means "not configured".
    """
    value = (credentials or {}).get(key)
    return "" if value is None else str(value).strip()


def missing_settings(settings: dict[str, str]) -> list[str]:
    """The names (environment variables) whose value is empty."""
    return [name for name, value in settings.items() if not value]


def not_configured_blueprint(name: str, explanation: str) -> Blueprint:
    """Routes of a channel that is off: the server runs, the channel's webhook answers 503.

    `explanation` (logged once by the channel, at startup) is returned to whoever calls it.
    """
    blueprint = Blueprint(f"{name}_webhook_not_configured")

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "not configured", "detail": explanation}, status=503)

    @blueprint.route("/webhook", methods=["GET", "POST"])
    async def webhook(_: Request) -> HTTPResponse:
        return response.text(explanation, status=503)

    return blueprint


class RecentIds:
    """The last `size` ids seen (e.g. Slack event ids, Telegram update ids), to drop repeats."""

    def __init__(self, size: int = 10_000) -> None:
        self._ids: OrderedDict[Hashable, None] = OrderedDict()
        self._size = size

    def first_time(self, key: Hashable) -> bool:
        """Records `key`; True unless it was seen before. Checks and records in one step."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return False
        self._ids[key] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


def split_text(text: str, limit: int, length: Callable[[str], int] = len) -> list[str]:
    """Splits `text` into parts of at most `limit` (measured by `length`).

    Cuts between paragraphs if it can, else between lines, else between words, and
    only as a last resort inside a word. Parts keep their own line breaks; the
    separators at the cuts are dropped. Empty text gives no parts.
    """
    text = text.strip()
    if not text:
        return []
    if length(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n", " "):
        pieces = text.split(separator)
        if len(pieces) == 1:
            continue
        parts: list[str] = []
        current = ""
        for piece in pieces:
            candidate = f"{current}{separator}{piece}" if current else piece
            if length(candidate) <= limit:
                current = candidate
                continue
            if current:
                parts.append(current)
            if length(piece) <= limit:
                current = piece
            else:  # a single piece too long for this separator: cut it finer
                *whole, current = split_text(piece, limit, length)
                parts.extend(whole)
        if current:
            parts.append(current)
        return [part.strip() for part in parts if part.strip()]
    # One long word: cut it.
    parts, current = [], ""
    for character in text:
        if length(current + character) > limit:
            parts.append(current)
            current = ""
        current += character
    return parts + [current]


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, how Telegram counts a message's characters."""
    return len(text.encode("utf-16-le")) // 2


def chunks(items: Iterable[Any], size: int) -> list[list[Any]]:
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)]
