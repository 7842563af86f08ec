"""Rasa's socket.io channel, fixed for python-socketio >= 5.10, for the web chat widget.

credentials.yml:

    channels.socketio.SocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      cors_allowed_origins: ["https://clinic.example"]   # optional, see below

Differences from rasa.core.channels.socketio.SocketIOInput (Rasa 3.6.21):

- `session_request` awaits `enter_room` (a coroutine since python-socketio 5.10;
  Rasa calls it without awaiting, so the client never joins its session's room
  and, with `session_persistence: true`, never receives a reply).
- `cors_allowed_origins` can be set (Rasa hard-codes `[]`): the origins of the
  pages allowed to connect, a list of "scheme://host[:port]" or "*". Left out,
  it stays `[]`, Rasa's behaviour: no origin check and no CORS headers.
- With `session_persistence`, the session id must be one the server issued (a
  uuid4 hex; anything else gets a new id) and a message is only accepted for a
  session the socket has joined: a client cannot pick another user's sender id.
- Messages go through the guard (channels/guard.py); a malformed one (not an
  object, no text) gets the guard's polite reply instead of an error in the log.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Union

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint

from channels.guard import MessageGuard

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"[0-9a-f]{32}")  # uuid.uuid4().hex, as Rasa issues them

Origins = Union[Text, List[Text]]


# A subclass, not a pin to python-socketio < 5.10: that would bring back fixed security bugs (pickle RCE < 5.14, DoS < 5.16.2) and can't make the origins configurable.
class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io input channel with working session persistence."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        channel.cors_allowed_origins = _origins(credentials.get("cors_allowed_origins", []))
        return channel

    def __init__(
        self, *args: Any, cors_allowed_origins: Optional[Origins] = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cors_allowed_origins = _origins([] if cors_allowed_origins is None else cors_allowed_origins)
        self.guard = MessageGuard()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        # Read by engine.io on every request (origin check and CORS headers).
        sio.eio.cors_allowed_origins = self.cors_allowed_origins
        namespace = self.namespace or "/"

        async def session_request(sid: Text, data: Optional[Dict] = None) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not (isinstance(session_id, str) and SESSION_ID.fullmatch(session_id)):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.debug(f"User {sid} joined session {session_id}.")

        async def user_message(sid: Text, data: Any = None) -> None:  # an event may come without data
            data = data if isinstance(data, dict) else {}
            sender_id = data.get("session_id") if self.session_persistence else None
            if sender_id and sender_id not in sio.rooms(sid, namespace=namespace):
                logger.warning(f"Ignored a message from {sid} for a session it has not joined.")
                return
            metadata = data.get(self.metadata_key)
            text = data.get("message")
            message = UserMessage(
                text if isinstance(text, str) else None,  # UserMessage calls .strip() on it
                SocketIOOutput(sio, self.bot_message_evt),
                sender_id or sid,  # no session yet: the socket's own room
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else None,
            )
            await self.guard.handle(message, _address(sio.get_environ(sid, namespace)))

        # Replace Rasa's handlers (registering an event again overrides it).
        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, user_message, namespace=namespace)
        return socketio_webhook


def _address(environ: Optional[Dict]) -> Optional[str]:
    request = (environ or {}).get("sanic.request")
    return (request.remote_addr or request.ip) if request is not None else None


def _origins(value: Any) -> Origins:
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(origin, str) for origin in value)
    ):
        return value
    raise ValueError(
        f"socketio cors_allowed_origins must be a list of origins or '*', not {value!r}"
    )
