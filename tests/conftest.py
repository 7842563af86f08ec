"""Fixtures for the end-to-end tests: the real servers, started by scripts/local_servers.py."""

import asyncio
import time
from typing import Callable, Iterator

import pytest

from scripts.local_servers import (  # noqa: F401  (re-exported for the tests)
    GUARD_OFF,
    MODEL,
    ROOT,
    Assistant,
    free_port,
    running_assistant,
)


@pytest.fixture(scope="session")
def assistant(tmp_path_factory) -> Iterator[Assistant]:
    """The assistant with the REST channel, shared by the tests of a session.

    Many tests share it, from one address: no rate limits (they have tests of their own).
    """
    with running_assistant(tmp_path_factory.mktemp("assistant"), guard=GUARD_OFF) as running:
        yield running


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Waits until `check()` holds; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not after {timeout} s: {what}")
        time.sleep(0.2)


def parses(texts: list[str]) -> list[dict]:
    """What the trained model makes of each text, loaded afresh as the Rasa server loads it."""
    from rasa.core.agent import load_agent  # TensorFlow: only for the tests that parse

    async def parse_all():
        agent = await load_agent(model_path=str(MODEL))
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(parse_all())
