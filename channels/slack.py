"""Slack channel: Rasa's Slack connector, off unless configured, made safe to run.

credentials.yml:

    channels.slack.SlackInput:
      slack_token: ${SLACK_BOT_TOKEN}             # xoxb-..., the app's Bot User OAuth Token
      slack_signing_secret: ${SLACK_SIGNING_SECRET}
      slack_api_url: ${SLACK_API_URL}             # empty: https://slack.com/api/ (tests: a fake)

Events and button clicks (interactivity) both arrive at /webhooks/slack/webhook.

What it changes from Rasa's built-in SlackInput / SlackBot:

- off unless SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set: the webhook then
  answers 503 and one log line says why, instead of Rasa refusing to start;
- every request must carry a valid signature no older than 5 minutes, checked
  before anything else (the URL-verification challenge included): else 401, nothing
  processed (the built-in answers 400);
- an event is handled once: Slack's retries (X-Slack-Retry-Num) and any other
  repeat of an event id are acknowledged and dropped (the built-in answers a retry
  again unless its reason is `http_timeout`);
- messages are posted without `as_user`, which Slack rejects from apps created
  since 2021 (`invalid_arguments`); text is escaped for Slack (&, <, >) and sent
  as one message per bot message (split only past Slack's length limits), where
  the built-in posts every paragraph as its own message;
- buttons become interactive Slack buttons (up to 25 per actions block; the
  built-in drops every button when there are more than 5);
- a failed post is logged instead of breaking the conversation turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from channels.common import (
    RecentIds,
    chunks,
    missing_settings,
    not_configured_blueprint,
    setting,
    split_text,
)
from channels.guard import MessageGuard

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
# Slack's limits: a section block's text, buttons per actions block, a button's
# label and value. Message texts are kept to one section's worth.
TEXT_LIMIT = 3000
BUTTONS_PER_BLOCK = 25
BUTTON_LABEL_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000


def escape(text: str) -> str:
    """Slack reads &, < and > as markup (links, mentions): send them as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def button_blocks(text: str, buttons: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """A section with `text` (Slack mrkdwn, escaped) and the buttons in actions blocks."""
    elements = []
    for index, button in enumerate(buttons):
        title = str(button.get("title") or button.get("payload") or "")
        value = str(button.get("payload") or title)
        if len(value) > BUTTON_VALUE_LIMIT:
            logger.warning("Slack: button %r left out, its payload is over %d characters",
                           title, BUTTON_VALUE_LIMIT)
            continue
        if len(title) > BUTTON_LABEL_LIMIT:
            title = title[: BUTTON_LABEL_LIMIT - 1] + "…"
        elements.append({
            "type": "button",
            "text": {"type": "plain_text", "text": title, "emoji": True},
            "value": value,
            "action_id": f"button_{index}",
        })
    blocks: List[Dict[Text, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    ]
    for number, group in enumerate(chunks(elements, BUTTONS_PER_BLOCK)):
        blocks.append({"type": "actions", "block_id": f"buttons_{number}", "elements": group})
    return blocks


class SlackOutput(SlackBot):
    """Posts the bot's messages to a Slack conversation."""

    def __init__(
        self,
        token: Text,
        slack_channel: Optional[Text] = None,
        thread_id: Optional[Text] = None,
        proxy: Optional[Text] = None,
        api_url: Text = DEFAULT_API_URL,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client.base_url = api_url.rstrip("/") + "/"
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))

    async def _post_message(self, channel: Text, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)  # refused by Slack apps created since 2021
        if self.thread_id:
            kwargs["thread_ts"] = self.thread_id
        try:
            await self.client.chat_postMessage(channel=channel, **kwargs)
        except SlackApiError as error:
            logger.error("Slack refused a message to %s: %s", channel,
                         error.response.get("error") if error.response else error)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            logger.error("Could not post a message to Slack (%s): %r", channel, error)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        recipient = self.slack_channel or recipient_id
        for part in split_text(escape(text), TEXT_LIMIT):
            await self._post_message(channel=recipient, text=part)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        recipient = self.slack_channel or recipient_id
        *before, last = split_text(escape(text), TEXT_LIMIT) or ["Please choose:"]
        for part in before:
            await self._post_message(channel=recipient, text=part)
        # `text` is what notifications show; the blocks are what the conversation shows.
        await self._post_message(channel=recipient, text=last, blocks=button_blocks(last, buttons))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        recipient = self.slack_channel or recipient_id
        await self._post_message(
            channel=recipient, text=image,
            blocks=[{"type": "image", "image_url": image, "alt_text": image}],
        )

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        channel = json_message.pop("channel", self.slack_channel or recipient_id)
        await self._post_message(channel=channel, **json_message)


class SlackInput(RasaSlackInput):
    """Receives Slack events and button clicks at /webhooks/slack/webhook."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            setting(credentials, "slack_token"),
            slack_channel=setting(credentials, "slack_channel") or None,
            proxy=setting(credentials, "proxy") or None,
            use_threads=bool(credentials.get("use_threads", False)),
            slack_signing_secret=setting(credentials, "slack_signing_secret"),
            conversation_granularity=credentials.get("conversation_granularity", "sender"),
            api_url=setting(credentials, "slack_api_url") or DEFAULT_API_URL,
        )

    def __init__(self, slack_token: Text, *args: Any, api_url: Text = DEFAULT_API_URL,
                 **kwargs: Any) -> None:
        self.api_url = api_url
        self._seen_events = RecentIds()
        self.guard = MessageGuard()
        super().__init__(slack_token, *args, **kwargs)

    def _validate_credentials(self) -> None:
        """Unlike the built-in connector, a missing setting turns the channel off."""
        missing = missing_settings({
            "SLACK_BOT_TOKEN": self.slack_token or "",
            "SLACK_SIGNING_SECRET": self.slack_signing_secret or "",
        })
        self.enabled = not missing
        if not missing:
            self.off_reason = ""
            logger.info("Slack channel on: events and button clicks at /webhooks/slack/webhook")
            return
        self.off_reason = (
            f"Slack channel off: {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set (see docs/channels.md, section Slack)."
        )
        if len(missing) == 2:
            logger.info(self.off_reason)
        else:  # half configured: most likely a mistake
            logger.warning(self.off_reason)

    def get_output_channel(
        self, channel: Optional[Text] = None, thread_id: Optional[Text] = None
    ) -> OutputChannel:
        return SlackOutput(self.slack_token, channel or self.slack_channel, thread_id,
                           self.proxy, self.api_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.enabled:
            return not_configured_blueprint("slack", self.off_reason)

        slack_webhook = Blueprint("slack_webhook", __name__)

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            # Signature (and age) first: nothing is read from an unsigned request.
            if not self.is_request_from_slack_authentic(request):
                logger.warning("Slack: rejected a request with a missing, wrong or "
                               "stale signature (from %s)", request.remote_addr or request.ip)
                return response.text("invalid or stale Slack signature",
                                     status=HTTPStatus.UNAUTHORIZED)

            content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
            if content_type == "application/json":
                return await self._handle_event(request)
            if content_type == "application/x-www-form-urlencoded":
                return await self._handle_interaction(request)
            return response.text("unsupported content type", status=HTTPStatus.BAD_REQUEST)

        return slack_webhook

    async def _handle_event(self, request: Request) -> HTTPResponse:
        try:
            body = json.loads(request.body)
        except ValueError:
            return response.text("invalid JSON", status=HTTPStatus.BAD_REQUEST)
        if not isinstance(body, dict):
            return response.text("invalid event", status=HTTPStatus.BAD_REQUEST)

        if body.get("type") == "url_verification":
            return response.json({"challenge": body.get("challenge", "")})

        event_id = body.get("event_id")
        if event_id and not self._seen_events.first_time(event_id):
            logger.info("Slack: event %s already handled (retry #%s, %s): ignored", event_id,
                        request.headers.get("x-slack-retry-num", "-"),
                        request.headers.get("x-slack-retry-reason", "-"))
            return response.text("already handled", headers={"X-Slack-No-Retry": "1"})

        if not self._is_user_message(body):
            return response.text("not a user message: ignored")
        metadata = self._metadata(body.get("event", {}), body)
        if not self._is_supported_channel(body, metadata):
            logger.info("Slack: message in channel %s ignored (not a direct message or "
                        "a mention of the app)", metadata["out_channel"])
            return response.text("channel not supported: ignored")

        event = body["event"]
        return self._start(
            text=self._sanitize_user_message(event.get("text", ""), metadata["users"]),
            sender=event.get("user", ""),
            metadata=metadata,
        )

    async def _handle_interaction(self, request: Request) -> HTTPResponse:
        try:
            payload = json.loads(request.form.get("payload", ""))
        except ValueError:
            return response.text("invalid interaction payload", status=HTTPStatus.BAD_REQUEST)
        if not isinstance(payload, dict) or not self._is_interactive_message(payload):
            return response.text("interaction not supported: ignored")

        action = payload["actions"][0]
        text = self._get_interactive_response(action)
        if text is None:  # e.g. a link button: Slack opens the link, nothing to answer
            return response.text("nothing to answer")
        # Slack does not retry interactions, but a click must not be answered twice.
        click = (payload.get("user", {}).get("id"), action.get("action_ts"), action.get("value"))
        if action.get("action_ts") and not self._seen_events.first_time(click):
            return response.text("already handled")

        message = payload.get("message") or {}
        metadata = {
            "out_channel": (payload.get("channel") or {}).get("id"),
            "thread_id": message.get("thread_ts", message.get("ts")),
            "users": [payload["user"]["id"]] if payload.get("user", {}).get("id") else [],
        }
        return self._start(text=text,
                           sender=payload.get("user", {}).get("id", ""), metadata=metadata)

    @staticmethod
    def _metadata(event: Dict[Text, Any], body: Dict[Text, Any]) -> Dict[Text, Any]:
        users = body.get("authed_users") or [
            a.get("user_id") for a in body.get("authorizations", [])[:1] if a.get("user_id")
        ]
        return {
            "out_channel": event.get("channel"),
            "thread_id": event.get("thread_ts", event.get("ts")),
            "users": users,
        }

    def _start(
        self,
        text: Text,
        sender: Text,
        metadata: Dict[Text, Any],
    ) -> HTTPResponse:
        """Hands the message to the bot in the background and acknowledges at once.

        Slack wants an answer within 3 seconds, else it retries (events) or shows
        the user an error (clicks); the bot's replies go out through the Web API.
        """
        thread_id = metadata.get("thread_id") if self.use_threads else None
        conversation = self._get_conversation_id(sender, metadata.get("out_channel"),
                                                 metadata.get("thread_id"))
        message = UserMessage(
            text,
            self.get_output_channel(metadata.get("out_channel"), thread_id),
            conversation,
            input_channel=self.name(),
            metadata=metadata,
        )

        task = asyncio.create_task(self.guard.handle(message))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)
        return response.text("")
