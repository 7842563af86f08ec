"""py-spy on a running server during a benchmark phase, and the top of its profile.

py-spy is not a project dependency: pass its path (`--py-spy`), e.g. from a venv
of its own (`python3 -m venv /tmp/py-spy && /tmp/py-spy/bin/pip install py-spy`).
It samples the process from outside (ptrace), so the server runs unchanged.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def recording(py_spy: Path | None, pid: int, out: Path) -> Iterator[None]:
    """Samples `pid` (and its children) into `out` (collapsed stacks) while the block runs."""
    if py_spy is None:
        yield
        return
    process = subprocess.Popen(
        [str(py_spy), "record", "--pid", str(pid), "--subprocesses", "--rate", "200",
         "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


# A sample whose innermost frame is one of these: the server waiting for work.
IDLE = ("serve (sanic/server/runners.py", "select (selectors.py", "poll (", "_run_once (asyncio")
# Frames on nearly every stack (starting the server, its event loop): not listed in totals.
WRAPPERS = ("<module> (rasa:", "main (rasa/__main__.py", "(rasa/cli/", "(rasa/api.py", "(rasa/core/run.py",
            "(sanic/app.py", "(sanic/server/", "(rasa_sdk/__main__.py", "run (rasa_sdk/endpoint.py",
            "_run (asyncio/events.py", "run_forever (asyncio")


def top(collapsed: Path, n: int = 15, idle: tuple[str, ...] = IDLE) -> dict:
    """The functions with the most samples, on the stack (total) and on top (self), in %.

    Samples where the process only waited in its event loop (`idle`) are left out,
    so the percentages are of the time it worked.
    """
    total: Counter = Counter()
    own: Counter = Counter()
    components: Counter = Counter()  # each graph component's share: NLU process, policy prediction
    busy = 0
    if not collapsed.exists():
        return {"samples": 0, "total": [], "self": []}
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if any(frames[-1].startswith(i) for i in idle):
            continue
        busy += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames[1:]):  # the first is the process/thread
            if not any(w in frame for w in WRAPPERS):
                total[frame] += int(count)
        for component in {re.sub(r":\d+\)$", ")", f) for f in frames
                          if f.startswith(("process (", "predict_action_probabilities ("))}:
            components[component] += int(count)

    def share(counter: Counter) -> list:
        return [(frame, round(100 * c / busy, 1)) for frame, c in counter.most_common(n)] if busy else []

    return {"samples": busy, "total": share(total), "self": share(own), "components": share(components)}
