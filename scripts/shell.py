"""`make shell`: staff talk to the assistant in the terminal, as a patient would.

The Makefile starts the Rasa server with the project's REST channel
(channels.rest.RestInput, so every message passes the guard, channels/guard.py)
on 127.0.0.1, and this client talks to it: what staff see is what the REST
channel's patients get, including "I can't look that up right now" when the
action server is down. Input and output are Rasa's own `rasa shell` prompts
(buttons numbered, picked with the arrow keys); `/stop` or Ctrl-D ends it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from typing import Any, Optional

import aiohttp
from rasa.core.channels import console
from rasa.shared.constants import INTENT_MESSAGE_PREFIX

STOP = INTENT_MESSAGE_PREFIX + "stop"
# What the REST channel answers with a reply: 200, or 429 with the guard's polite reply.
REPLY_STATUSES = {200, 429}


async def wait_until_up(session: aiohttp.ClientSession, url: str, server_pid: Optional[int],
                        timeout: float) -> None:
    """Polls the REST channel's health check until the Rasa server has loaded the model."""
    print("Starting the assistant (about a minute)...", flush=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if server_pid is not None and not _alive(server_pid):
            raise SystemExit("The Rasa server stopped while starting.")
        try:
            async with session.get(f"{url}/webhooks/rest/") as answer:
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise SystemExit(f"The Rasa server did not answer at {url} within {timeout:.0f} s.")


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> list[dict]:
    try:
        async with session.post(f"{url}/webhooks/rest/webhook",
                                json={"sender": sender, "message": text}) as answer:
            if answer.status in REPLY_STATUSES:
                return await answer.json()
            problem = (await answer.json(content_type=None) or {}).get("error", answer.reason)
            return [{"text": f"(The assistant refused the message: {answer.status} {problem})"}]
    except aiohttp.ClientError as error:
        return [{"text": f"(Cannot reach the Rasa server: {type(error).__name__})"}]


async def talk(url: str, server_pid: Optional[int], timeout: float) -> None:
    sender = f"shell-{uuid.uuid4().hex}"  # one conversation per session, as `rasa shell`
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        await wait_until_up(session, url, server_pid, timeout)
        print(f"Bot loaded. Type a message and press enter (use '{STOP}' to exit):", flush=True)
        previous: Optional[dict[str, Any]] = None
        while True:
            # Shows the last reply (its buttons as a numbered choice) and reads the next message.
            text = await console._get_user_input(previous)
            if text is None or text == STOP:
                return
            previous = None
            for reply in await send(session, url, sender, text):
                if previous is not None:
                    console._print_bot_output(previous)
                previous = reply


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the Rasa server, e.g. http://127.0.0.1:5005")
    parser.add_argument("--server-pid", type=int, help="stop waiting if this process ends")
    parser.add_argument("--startup-timeout", type=float, default=600)
    args = parser.parse_args()
    try:
        asyncio.run(talk(args.url.rstrip("/"), args.server_pid, args.startup_timeout))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
