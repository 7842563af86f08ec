"""The Rasa server's calls to the action server over one keep-alive session.

Rasa 3.6 (EndpointConfig.request) opens a new aiohttp session, so a new TCP
connection, for every action it runs, and gives each call a fixed 5-minute
timeout (RemoteAction.run passes DEFAULT_REQUEST_TIMEOUT). Here RemoteAction's
endpoint is a KeepAliveEndpoint: same URL, token, headers and request, but one
session per process (per event loop) reused for its life, and a timeout tied to
the guard's REPLY_TIMEOUT_SECONDS (channels/guard.py):
- connecting may take at most the reply timeout (after that the patient has had
  the guard's fallback anyway);
- the whole call may take LATE_TURN_FACTOR times the reply timeout: a turn the
  guard answered for is still finished and kept, as the guard promises (its
  actions and slots stored, its messages withheld), but not for 5 minutes.
The request, which carries every event of the conversation, is written with ujson
(a Rasa dependency) instead of the standard library's json: the same JSON values,
floats to the last digit, in about a third of the time (after ten messages, 81 events
and 38 KB: 0.5 -> 0.2 ms).

Only RemoteAction's endpoint changes (nlg, models and other endpoints keep
Rasa's). Rasa 3.6 has no setting for the action endpoint's client, so
install() replaces RemoteAction.__init__; the tracker store named in
endpoints.yml (stores/sql.py) calls install() when the Rasa server creates it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional

import aiohttp
import ujson
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

LATE_TURN_FACTOR = 4
# Below Sanic's default KEEP_ALIVE_TIMEOUT (5 s, the action server): we drop an idle
# connection before the server does, so a request never goes out on a closing one.
IDLE_SECONDS = 4.0


class _Borrowed:
    """`async with` the shared session without closing it (EndpointConfig.request closes its own)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *_: Any) -> None:
        return None


class KeepAliveEndpoint(EndpointConfig):
    def __init__(self, endpoint: EndpointConfig, reply_timeout: float) -> None:
        super().__init__(endpoint.url, endpoint.params, endpoint.headers, endpoint.basic_auth,
                         endpoint.token, endpoint.token_name, endpoint.cafile,
                         type=endpoint.type, **endpoint.kwargs)
        self.timeout = aiohttp.ClientTimeout(total=LATE_TURN_FACTOR * reply_timeout,
                                             sock_connect=reply_timeout)
        self._sessions: Dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}

    def session(self) -> _Borrowed:  # type: ignore[override]
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                    if self.basic_auth else None)
            session = aiohttp.ClientSession(
                headers=self.headers, auth=auth, timeout=self.timeout, json_serialize=ujson.dumps,
                connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_SECONDS),
            )
            self._sessions = {l: s for l, s in self._sessions.items() if not l.is_closed()}
            self._sessions[loop] = session
        return _Borrowed(session)

    async def request(self, *args: Any, **kwargs: Any) -> Optional[Any]:
        kwargs["timeout"] = self.timeout  # instead of RemoteAction's 5 minutes
        return await super().request(*args, **kwargs)


_installed: Dict[str, Any] = {}


def install(reply_timeout: float) -> None:
    """RemoteAction calls the action server through a KeepAliveEndpoint (once per process)."""
    if _installed:
        return
    original_init = RemoteAction.__init__
    endpoints: Dict[int, tuple[EndpointConfig, KeepAliveEndpoint]] = {}

    def __init__(self: RemoteAction, name: str, action_endpoint: Optional[EndpointConfig]) -> None:
        original_init(self, name, action_endpoint)
        if action_endpoint is None or isinstance(action_endpoint, KeepAliveEndpoint):
            return
        # Rasa makes a RemoteAction per action run, always with the agent's endpoint.
        known = endpoints.get(id(action_endpoint))
        if known is None or known[0] is not action_endpoint:
            known = (action_endpoint, KeepAliveEndpoint(action_endpoint, reply_timeout))
            endpoints[id(action_endpoint)] = known
        self.action_endpoint = known[1]

    RemoteAction.__init__ = __init__
    _installed["reply_timeout"] = reply_timeout
