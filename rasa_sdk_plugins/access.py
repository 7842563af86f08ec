"""Only the Rasa server may call the action server, when ACTIONS_TOKEN is set.

Anyone who can reach /webhook can post a made-up tracker, e.g. to write any text
into the feedback database that `make report` shows. The action server listens on
127.0.0.1 by default (SANIC_HOST, set from ACTIONS_HOST by the Makefile); when it
must listen on another address, set ACTIONS_TOKEN on both servers: Rasa sends it
as `?token=...` (endpoints.yml, action_endpoint `token:`), and requests without
it are refused with 401. /health stays open for monitoring.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from typing import Optional

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa_sdk")

OPEN_PATHS = {"/health"}


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    token = os.environ.get("ACTIONS_TOKEN", "").strip()
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    if not token:
        if not _is_loopback(host):
            logger.warning("The action server listens on %s without ACTIONS_TOKEN: anyone who "
                           "can reach it can call its actions (docs/deployment.md, \"Access\").", host)
        return

    @app.on_request
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        given = request.args.get("token", "")
        if hmac.compare_digest(given.encode(), token.encode()):
            return None
        logger.warning("Refused a request to %s without the right token.", request.path)
        return response.json({"error": "A valid token is required."}, status=401)

    logger.info("The action server requires ACTIONS_TOKEN.")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
