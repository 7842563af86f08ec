"""Telegram channel: our own connector on the Telegram Bot API (webhook), over aiohttp.

credentials.yml:

    channels.telegram.TelegramInput:
      access_token: ${TELEGRAM_TOKEN}            # from BotFather
      bot_name: ${TELEGRAM_BOT_NAME}             # the bot's username, e.g. SpineProcedureBot
      webhook_url: ${TELEGRAM_WEBHOOK_URL}       # https://<host>/webhooks/telegram/webhook
      secret_token: ${TELEGRAM_SECRET_TOKEN}     # 1-256 of A-Z a-z 0-9 _ -
      api_url: ${TELEGRAM_API_URL}               # empty: https://api.telegram.org (tests: a fake)
      # webhook_retry_max_seconds: 60            # longest wait between registration attempts

Why not Rasa's built-in `telegram` channel: it creates its aiogram session in an
event loop that is closed before the server serves (every webhook then fails with
"Event loop is closed"), never checks X-Telegram-Bot-Api-Secret-Token, and stops
the whole server when Telegram cannot be reached at startup.

This one:

- is off unless TELEGRAM_TOKEN is set (webhook answers 503, one log line says why);
  with a token it also needs TELEGRAM_WEBHOOK_URL and TELEGRAM_SECRET_TOKEN;
- registers its webhook (setWebhook with the secret token) in the background once
  the server is up, retrying with backoff while Telegram cannot be reached: the
  server and its other channels never wait for Telegram;
- answers 403 to an update without the right X-Telegram-Bot-Api-Secret-Token
  header, and reads nothing of it;
- acknowledges every update at once (200) and lets the bot answer in the
  background, so a slow turn never makes Telegram resend it; a resent update
  (same update_id) is ignored;
- handles text messages and button presses (callback_query: answerCallbackQuery,
  then the button's payload as the patient's message); other messages (photos,
  stickers, voice...) get a polite "text only" reply;
- sends text with sendMessage (plain text, split at 4096 characters) and buttons
  as an inline keyboard. Telegram limits callback_data to 64 bytes: a longer
  payload travels as a short key, mapped back when the button is pressed (if the
  mapping is gone, e.g. after a restart, the button's label is used as the message).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections import OrderedDict
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import (
    RecentIds,
    missing_settings,
    not_configured_blueprint,
    setting,
    split_text,
    utf16_length,
)
from channels.guard import MessageGuard

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MESSAGE_LIMIT = 4096  # characters (UTF-16 code units) per message
CALLBACK_DATA_LIMIT = 64  # bytes
ALLOWED_UPDATES = ["message", "callback_query"]
# Telegram commands, as the patient's message to the bot.
COMMANDS = {"/start": "/greet", "/help": "/help"}
TEXT_ONLY_REPLY = (
    "Sorry, I can only read text messages. Please type your question about your "
    "procedure, for example: What are the risks of a discogram?"
)


class TelegramError(Exception):
    """The Bot API answered `ok: false`."""

    def __init__(self, method: str, status: int, description: str,
                 retry_after: Optional[float] = None) -> None:
        super().__init__(f"{method}: HTTP {status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


class TelegramApi:
    """A minimal Bot API client: POST https://api.telegram.org/bot<token>/<method>.

    Its aiohttp session is created in the event loop that uses it (the server's),
    never ahead of time: the built-in connector's "Event loop is closed" came from that.
    """

    def __init__(self, token: str, api_url: str = DEFAULT_API_URL, timeout: float = 15) -> None:
        self._token = token
        self.api_url = api_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None
        self._session_loop: Optional[asyncio.AbstractEventLoop] = None

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<token>") if self._token else text

    def _session_for_this_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._session_loop = loop
        return self._session

    async def call(self, method: str, **params: Any) -> Any:
        """Calls a Bot API method; returns its `result`.

        Raises TelegramError when Telegram refuses, aiohttp.ClientError /
        asyncio.TimeoutError when it cannot be reached.
        """
        url = f"{self.api_url}/bot{self._token}/{method}"
        try:
            async with self._session_for_this_loop().post(url, json=params) as answer:
                status = answer.status
                try:
                    data = await answer.json(content_type=None)
                except ValueError:
                    data = {"ok": False, "description": "answer is not JSON"}
        except aiohttp.ClientError as error:  # never let the URL (with the token) be logged
            raise aiohttp.ClientError(self._redact(f"{type(error).__name__}: {error}")) from None
        if not isinstance(data, dict) or not data.get("ok"):
            data = data if isinstance(data, dict) else {}
            retry_after = (data.get("parameters") or {}).get("retry_after")
            raise TelegramError(method, status, self._redact(str(data.get("description", ""))),
                                retry_after)
        return data.get("result")

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class CallbackData:
    """callback_data for a button's payload, within Telegram's 64 bytes.

    A payload that fits is sent as it is; a longer one as "k:<hash>", remembered
    here (the last `size` of them) to be mapped back when the button is pressed.
    """

    PREFIX = "k:"

    def __init__(self, size: int = 10_000) -> None:
        self._payloads: OrderedDict[str, str] = OrderedDict()
        self._size = size

    def encode(self, payload: str) -> str:
        if len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT and not payload.startswith(self.PREFIX):
            return payload
        key = self.PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:40]
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        if len(self._payloads) > self._size:
            self._payloads.popitem(last=False)
        return key

    def decode(self, data: str) -> Optional[str]:
        """The payload of a pressed button; None when a long payload's key is unknown."""
        if not data.startswith(self.PREFIX):
            return data
        return self._payloads.get(data)


def chat_id_of(recipient_id: Text) -> Any:
    """Conversations are named by Telegram chat id; send it back as a number."""
    text = str(recipient_id)
    return int(text) if re.fullmatch(r"-?\d+", text) else text


class TelegramOutput(OutputChannel):
    """Sends the bot's messages to a Telegram chat."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, api: TelegramApi, callback_data: CallbackData) -> None:
        self.api = api
        self.callback_data = callback_data

    async def _send(self, method: str, **params: Any) -> None:
        """Calls `method`, retrying a few times if Telegram is busy or unreachable.

        A message that cannot be delivered is logged, never raised: the
        conversation turn (and its tracker) must not be lost because of it.
        """
        for attempt in range(1, 4):
            try:
                await self.api.call(method, **params)
                return
            except TelegramError as error:
                if error.status != 429 and error.status < 500:
                    logger.error("Telegram refused %s to chat %s: %s", method,
                                 params.get("chat_id"), error.description)
                    return
                delay = min(float(error.retry_after or attempt), 30.0)
                problem: str = str(error)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                delay, problem = float(attempt), repr(error)
            if attempt < 3:
                await asyncio.sleep(delay)
        logger.error("Could not deliver %s to Telegram chat %s: %s", method,
                     params.get("chat_id"), problem)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text, MESSAGE_LIMIT, utf16_length):
            await self._send("sendMessage", chat_id=chat_id_of(recipient_id), text=part)

    def keyboard(self, buttons: List[Dict[Text, Any]]) -> Dict[Text, Any]:
        """An inline keyboard, one button per row (labels stay readable on a phone)."""
        rows = []
        for button in buttons:
            title = str(button.get("title") or button.get("payload") or "")
            if button.get("url"):
                rows.append([{"text": title, "url": button["url"]}])
            elif title:
                payload = str(button.get("payload") or title)
                rows.append([{"text": title, "callback_data": self.callback_data.encode(payload)}])
        return {"inline_keyboard": rows}

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        *before, last = split_text(text, MESSAGE_LIMIT, utf16_length) or ["Please choose:"]
        chat_id = chat_id_of(recipient_id)
        for part in before:
            await self._send("sendMessage", chat_id=chat_id, text=part)
        await self._send("sendMessage", chat_id=chat_id, text=last,
                         reply_markup=self.keyboard(buttons))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send("sendPhoto", chat_id=chat_id_of(recipient_id), photo=image)

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """A custom response: `{"method": "sendLocation", ...}` (default sendMessage)."""
        message = dict(json_message)
        method = message.pop("method", "sendMessage")
        message.setdefault("chat_id", chat_id_of(recipient_id))
        await self._send(method, **message)


class TelegramInput(InputChannel):
    """Receives Telegram updates at /webhooks/telegram/webhook."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        retry_max = (credentials or {}).get("webhook_retry_max_seconds", 60)
        return cls(
            access_token=setting(credentials, "access_token"),
            bot_name=setting(credentials, "bot_name"),
            webhook_url=setting(credentials, "webhook_url"),
            secret_token=setting(credentials, "secret_token"),
            api_url=setting(credentials, "api_url") or DEFAULT_API_URL,
            webhook_retry_max_seconds=float(retry_max),
        )

    def __init__(
        self,
        access_token: Text,
        bot_name: Text = "",
        webhook_url: Text = "",
        secret_token: Text = "",
        api_url: Text = DEFAULT_API_URL,
        webhook_retry_max_seconds: float = 60,
    ) -> None:
        self.bot_name = bot_name.lstrip("@")
        self.webhook_url = webhook_url
        self.secret_token = secret_token
        self.retry_max = max(1.0, webhook_retry_max_seconds)
        self.api = TelegramApi(access_token, api_url)
        self.callback_data = CallbackData()
        self.webhook_registered = False
        self._seen_updates = RecentIds()
        self.guard = MessageGuard()
        self._tasks: Set[asyncio.Task] = set()
        self.off_reason = self._check(access_token)
        self.enabled = not self.off_reason
        if self.enabled:
            logger.info("Telegram channel on: updates at /webhooks/telegram/webhook; "
                        "webhook %s is registered once the server is up", webhook_url)
        elif not access_token:
            logger.info(self.off_reason)
        else:
            logger.error(self.off_reason)

    def _check(self, token: str) -> str:
        """Why the channel is off ("" when it is on)."""
        if not token:
            return "Telegram channel off: TELEGRAM_TOKEN not set (see docs/channels.md, section Telegram)."
        missing = missing_settings({"TELEGRAM_WEBHOOK_URL": self.webhook_url,
                                    "TELEGRAM_SECRET_TOKEN": self.secret_token})
        if missing:
            return (f"Telegram channel off: TELEGRAM_TOKEN is set but {' and '.join(missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} not set (see docs/channels.md, section Telegram).")
        if not SECRET_TOKEN_FORMAT.match(self.secret_token):
            return ("Telegram channel off: TELEGRAM_SECRET_TOKEN must be 1 to 256 characters "
                    "of A-Z, a-z, 0-9, _ and - (Telegram's rule).")
        return ""

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self.api, self.callback_data)

    # --- webhook registration -------------------------------------------------

    async def register_webhook(self) -> None:
        """getMe and setWebhook, retried with backoff until Telegram accepts them."""
        delay = 1.0
        while True:
            try:
                me = await self.api.call("getMe") or {}
                username = me.get("username", "")
                if self.bot_name and username and username.lower() != self.bot_name.lower():
                    logger.warning("TELEGRAM_BOT_NAME is %s but the token belongs to @%s",
                                   self.bot_name, username)
                self.bot_name = self.bot_name or username
                await self.api.call("setWebhook", url=self.webhook_url,
                                    secret_token=self.secret_token,
                                    allowed_updates=ALLOWED_UPDATES)
                self.webhook_registered = True
                logger.info("Telegram webhook registered: %s (bot @%s)", self.webhook_url, username)
                return
            except TelegramError as error:
                if error.status in (401, 404):
                    logger.error("Telegram refused the bot token (%s): check TELEGRAM_TOKEN. "
                                 "The webhook is not registered; restart once fixed.", error)
                    return
                if error.retry_after:
                    delay = float(error.retry_after)
                logger.error("Telegram refused the webhook registration (%s); "
                             "retrying in %.0f s", error, delay)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                logger.warning("Cannot reach Telegram at %s (%s); retrying the webhook "
                               "registration in %.0f s", self.api.api_url, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max)

    def _in_background(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- updates ----------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.enabled:
            return not_configured_blueprint("telegram", self.off_reason)

        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.listener("after_server_start")
        async def start_registration(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            self._in_background(self.register_webhook())

        @telegram_webhook.listener("before_server_stop")
        async def stop(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.api.close()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "webhook_registered": self.webhook_registered})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(),
                                       self.secret_token.encode()):
                logger.warning("Telegram: rejected an update without the right secret token "
                               "(from %s)", request.remote_addr or request.ip)
                return response.text("forbidden", status=HTTPStatus.FORBIDDEN)
            try:
                update = request.json
            except Exception:  # noqa: BLE001 - sanic raises its own error on bad JSON
                update = None
            if not isinstance(update, dict):
                return response.text("not an update", status=HTTPStatus.BAD_REQUEST)
            if "update_id" in update and not self._seen_updates.first_time(update["update_id"]):
                return response.text("already handled")
            # Answer Telegram now; the bot takes its time in the background.
            self._in_background(self.handle_update(update))
            return response.text("ok")

        return telegram_webhook

    async def handle_update(self, update: Dict[Text, Any]) -> None:
        output = self.get_output_channel()
        if "callback_query" in update:
            await self._handle_button(update["callback_query"], output)
        elif "message" in update:
            await self._handle_message(update["message"], output)
        else:
            logger.debug("Telegram: update of type %s ignored", sorted(update))

    async def _handle_message(self, message: Dict[Text, Any], output: TelegramOutput) -> None:
        chat = message.get("chat") or {}
        if "id" not in chat or (message.get("from") or {}).get("is_bot"):
            return
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            if chat.get("type") == "private":  # in a group, other people's photos are not for us
                await output.send_text_message(str(chat["id"]), TEXT_ONLY_REPLY)
            return
        # Only the bot's @name: the patient is saying hello.
        await self._to_bot(self._clean(text) or "/greet", str(chat["id"]), output)

    async def _handle_button(self, query: Dict[Text, Any], output: TelegramOutput) -> None:
        data = query.get("data") or ""
        payload = self.callback_data.decode(data) if data else None
        if payload is None:  # a long payload's key from before a restart: use the label
            payload = self._label_of(query, data)
        # Stops the button's loading animation in the patient's app.
        await output._send("answerCallbackQuery", callback_query_id=query.get("id"),
                           **({} if payload else {"text": "Please type your question."}))
        message = query.get("message") or {}
        chat_id = (message.get("chat") or {}).get("id") or (query.get("from") or {}).get("id")
        if payload and chat_id is not None:
            await self._to_bot(payload, str(chat_id), output)

    @staticmethod
    def _label_of(query: Dict[Text, Any], data: str) -> Optional[str]:
        keyboard = ((query.get("message") or {}).get("reply_markup") or {}).get("inline_keyboard", [])
        for row in keyboard:
            for button in row:
                if button.get("callback_data") == data and data:
                    return button.get("text")
        return None

    def _clean(self, text: str) -> str:
        """Drops the bot's @name (group chats) and turns Telegram commands into intents."""
        text = text.strip()
        if self.bot_name:
            text = re.sub(rf"@{re.escape(self.bot_name)}\b", "", text, flags=re.IGNORECASE).strip()
        command = text.split(maxsplit=1)[0] if text else ""
        return COMMANDS.get(command.lower(), text) if command == text else text

    async def _to_bot(self, text: str, chat_id: str, output: TelegramOutput) -> None:
        """The patient's message to the assistant; the conversation is the Telegram chat."""
        await self.guard.handle(UserMessage(text, output, chat_id, input_channel=self.name()))
