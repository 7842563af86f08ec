"""The knowledge base is loaded and indexed when the action server starts.

Not on the first patient's question, which took a second longer; and a broken
document stops the server at startup, with the document's name and the reason.
"""

from __future__ import annotations

import pluggy
from sanic import Sanic

from actions import actions

hookimpl = pluggy.HookimplMarker("rasa_sdk")


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    @app.before_server_start
    async def warm_up(app: Sanic, loop) -> None:
        actions.warm_up()
