"""Serving benchmark: our assistant against the stock `rasa init` bot, in the same run.

    make bench                      (or: .venv/bin/python -m bench.serving)
    .venv/bin/python -m bench.serving --quick --workdir /tmp/b       (a short trial)
    .venv/bin/python -m bench.serving --quick --workdir /tmp/b --no-train   (reuse its models)

1. Trains both, timed: the stock bot with `rasa init --no-prompt` (it trains
   itself), ours with `rasa train` in the project (the spaCy pipeline
   models/spacy_pipeline must be built: `make train`). Each training gets an empty
   Rasa cache, so both are trained from scratch. The models trained here are the
   ones benchmarked.
2. Starts both in production settings, one after the other: ours = action server +
   Rasa server through scripts/local_servers.py, the two started together as
   supervisord does (endpoints.yml: SQLite tracker store; REST channel); stock =
   `rasa run` in its folder (in-memory tracker store, no action server).
   Startup = process start to the first non-empty answer.
3. Drives both over the REST channel with two loads made of the held-out
   questions (tests/heldout/conversations.yml and nlu.yml): "conversations" of
   6-10 messages, and "one message", where every message is a new conversation
   (a patient who asks one question and leaves). Each conversation is a new
   patient: fresh sender id, its own loopback address and keep-alive connection.
   For each load: one conversation at a time (after a warm-up), then 10 and 50
   in parallel; latency percentiles and messages/s for each, every phase run for
   stock and ours back to back. Our production limits stay on.
   With --py-spy, ours' Rasa and action servers are profiled during the 10-at-once
   phase of each load (bench/profile.py), the top entries printed and kept.
4. Counts failed requests (non-200, timeouts), empty replies and "fallback
   replies" (our "I can't look that up right now"), and measures the servers'
   resident memory after the load.

Printed as a table, and written with the machine's description to
bench/results/serving.json (a --quick run writes into its --workdir instead).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import aiohttp
import numpy as np
import psutil
import requests
import yaml

from bench.nlu import examples
from bench.profile import recording, top
from scripts.local_servers import (
    ENV, GUARD_DEFAULTS, RASA, ROOT, action_server, free_port, rasa_server, wait_until_up,
)

HELDOUT = ROOT / "tests" / "heldout"
RESULTS = ROOT / "bench" / "results" / "serving.json"
SPACY_PIPELINE = ROOT / "models" / "spacy_pipeline"
FALLBACK = re.compile(r"can[’']t look that up", re.IGNORECASE)
REQUEST_TIMEOUT = 60  # seconds; a request that takes longer counts as failed
SEED = 20240601


@dataclass(frozen=True)
class Settings:
    warmup_messages: int
    sequential_messages: int
    concurrency: tuple[int, ...]
    target_seconds: float  # planned length of a concurrent phase, for the slower bot
    max_seconds: float  # a concurrent phase stops sending after this


FULL = Settings(warmup_messages=20, sequential_messages=200, concurrency=(10, 50),
                target_seconds=20, max_seconds=35)
QUICK = Settings(warmup_messages=5, sequential_messages=25, concurrency=(10, 50),
                 target_seconds=4, max_seconds=10)


# --- The patients' messages -------------------------------------------------------

class Workload:
    """Patient conversations of 6-10 messages made of the held-out questions.

    A patient starts with a greeting or a question, goes on with the held-out
    follow-up conversations and with single questions followed by elliptical
    follow-ups ("why is it done?", "and for the spacer?"), and often ends with
    thanks or goodbye. Seeded: both bots get exactly the same conversations.
    """

    def __init__(self, seed: int = SEED):
        by_intent: dict[str, list[tuple[str, list[str]]]] = {}
        for intent, text, codes in examples(HELDOUT / "nlu.yml"):
            by_intent.setdefault(intent, []).append((text, codes))
        self.rng = random.Random(seed)

        def pool(texts: list[str]):
            texts = list(texts)
            self.rng.shuffle(texts)
            return itertools.cycle(texts)

        named = [t for i, items in by_intent.items() for t, codes in items
                 if codes and (i.startswith("ask_") or i == "about_procedure")]
        followups = [t for i, items in by_intent.items() for t, codes in items
                     if (i.startswith("ask_") and not codes) or i == "switch_procedure"]
        data = yaml.safe_load((HELDOUT / "conversations.yml").read_text())["conversations"]
        self.greetings = pool(t for t, _ in by_intent["greet"])
        self.closings = pool(t for i in ("thanks", "goodbye") for t, _ in by_intent[i])
        self.chitchat = pool(t for i in ("help", "list_procedures", "bot_challenge")
                             for t, _ in by_intent[i])
        self.questions = pool(named)
        self.followups = pool(followups)
        self.threads = pool([str(turn["user"]) for turn in c["turns"]] for c in data)

    def conversation(self) -> list[str]:
        rng = self.rng
        length = rng.randint(6, 10)
        messages = []
        if rng.random() < 0.5:
            messages.append(next(self.greetings))
            if rng.random() < 0.3:
                messages.append(next(self.chitchat))
        while len(messages) < length - 1:
            if rng.random() < 0.5:
                messages += next(self.threads)
            else:
                messages.append(next(self.questions))
                messages += [next(self.followups) for _ in range(rng.randint(0, 2))]
        messages = messages[:length - 1]
        messages.append(next(self.closings) if rng.random() < 0.7 else next(self.questions))
        return messages

    def conversations(self, messages: int) -> list[list[str]]:
        """Whole conversations, about `messages` messages in all."""
        out: list[list[str]] = []
        while sum(map(len, out)) < messages:
            out.append(self.conversation())
        return out

    def one_message(self) -> list[str]:
        """A patient who asks one thing and leaves: mostly a question naming its procedure."""
        roll = self.rng.random()
        return [next(self.questions) if roll < 0.8 else
                next(self.greetings) if roll < 0.9 else next(self.chitchat)]

    def patients(self, patients: int, messages: int) -> list[list[list[str]]]:
        """`patients` parallel slots, each with conversations to go through one after another."""
        conversations = self.conversations(max(messages, 6 * patients))
        while len(conversations) < patients:
            conversations.append(self.conversation())
        return [conversations[i::patients] for i in range(patients)]

    def one_message_patients(self, patients: int, messages: int) -> list[list[list[str]]]:
        """As patients(), every conversation one message long."""
        conversations = [self.one_message() for _ in range(max(messages, patients))]
        return [conversations[i::patients] for i in range(patients)]


# --- Driving a bot over the REST channel ------------------------------------------

def loopback_addresses():
    """127.1.0.1, 127.1.0.2, ...: each simulated patient's own address on this machine.

    Our REST channel limits messages per address (channels/guard.py, 120 a minute:
    a waiting room shares one address); the benchmark's patients, like real ones,
    each come from their own, so the production limits stay on and are not hit.
    """
    for i in itertools.count():
        high, low = divmod(i % (250 * 254), 254)
        yield f"127.1.{high}.{low + 1}"


ADDRESSES = loopback_addresses()

@dataclass
class Phase:
    """What one bot did in one phase."""

    planned: int
    latencies: list[float] = field(default_factory=list)  # seconds, answered requests
    failed: int = 0  # non-200, timeout, connection error
    empty: int = 0  # 200 with no text at all
    fallback: int = 0  # our "I can't look that up right now"
    wall: float = 0.0
    stopped_early: bool = False
    examples: dict[str, list] = field(default_factory=dict)  # a few failed/empty/fallback messages

    def note(self, kind: str, item) -> None:
        bucket = self.examples.setdefault(kind, [])
        if len(bucket) < 5:
            bucket.append(item)

    @property
    def sent(self) -> int:
        return len(self.latencies) + self.failed

    @property
    def per_second(self) -> float | None:
        """Answered messages (status 200) per second."""
        return len(self.latencies) / self.wall if self.wall else None

    def summary(self) -> dict:
        ms = np.array(self.latencies) * 1000
        pct = (lambda q: round(float(np.percentile(ms, q)), 1)) if len(ms) else (lambda q: None)
        return {
            "messages_planned": self.planned, "messages_sent": self.sent,
            "stopped_at_time_limit": self.stopped_early,
            "seconds": round(self.wall, 2),
            "messages_per_second": round(self.per_second, 2) if self.wall else None,
            "latency_ms": {"mean": round(float(ms.mean()), 1) if len(ms) else None,
                           "p50": pct(50), "p95": pct(95), "p99": pct(99),
                           "max": round(float(ms.max()), 1) if len(ms) else None},
            "failed_requests": self.failed, "empty_replies": self.empty,
            "fallback_replies": self.fallback, "examples": self.examples,
        }


async def drive(url: str, patients: list[list[list[str]]], max_seconds: float | None = None) -> Phase:
    """The slots in parallel, each through its conversations one after another, one message at a time."""
    webhook = f"{url}/webhooks/rest/webhook"
    phase = Phase(planned=sum(len(c) for p in patients for c in p))
    start = time.perf_counter()
    stop_at = start + max_seconds if max_seconds else float("inf")

    async def patient(conversations: list[list[str]]) -> None:
        for conversation in conversations:
            # A new patient: own sender id, own device (address), one keep-alive connection.
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            connector = aiohttp.TCPConnector(local_addr=(next(ADDRESSES), 0))
            async with aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            ) as session:
                for text in conversation:
                    if time.perf_counter() > stop_at:
                        phase.stopped_early = True
                        return
                    sent = time.perf_counter()
                    try:
                        async with session.post(webhook, json={"sender": sender, "message": text}) as r:
                            status = r.status
                            body = await r.json(content_type=None) if status == 200 else await r.text()
                    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                        phase.failed += 1
                        phase.note("failed", {"message": text, "error": repr(error)})
                        continue
                    if status != 200:
                        phase.failed += 1
                        phase.note("failed", {"message": text, "status": status, "body": body[:200]})
                        continue
                    phase.latencies.append(time.perf_counter() - sent)
                    reply = "\n".join(m.get("text") or "" for m in body if isinstance(m, dict))
                    if not reply.strip():
                        phase.empty += 1
                        phase.note("empty", {"message": text, "body": body})
                    elif FALLBACK.search(reply):
                        phase.fallback += 1
                        phase.note("fallback", {"message": text, "reply": reply[:200]})

    await asyncio.gather(*(patient(p) for p in patients))
    phase.wall = time.perf_counter() - start
    return phase


def run_phase(url: str, patients: list[list[list[str]]], max_seconds: float | None = None) -> Phase:
    return asyncio.run(drive(url, patients, max_seconds))


# --- Training and starting the two bots ---------------------------------------------

def environment(workdir: Path, cache: str) -> dict:
    """As `make` runs commands; each training gets its own, empty, Rasa cache."""
    return {**ENV, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "RASA_CACHE_DIRECTORY": str(workdir / cache),
            # endpoints.yml's variables (not used by training, but it must be readable)
            "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook", "ACTIONS_TOKEN": "",
            "TRACKER_DB": str(workdir / "train-conversations.db")}


def timed(args: list, cwd: Path, env: dict, log: Path) -> float:
    start = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({done.returncode}):\n"
                           f"{log.read_text()[-3000:]}")
    return time.perf_counter() - start


def train(workdir: Path) -> dict:
    stock_dir = workdir / "stock"
    stock_dir.mkdir()
    stock = timed([RASA, "init", "--no-prompt", "--init-dir", stock_dir], workdir,
                  environment(workdir, "stock-cache"), workdir / "stock-train.log")
    print(f"  trained stock (rasa init --no-prompt) in {stock:.0f} s", flush=True)
    ours = timed([RASA, "train", "--out", workdir / "ours", "--fixed-model-name", "assistant"], ROOT,
                 environment(workdir, "ours-cache"), workdir / "ours-train.log")
    print(f"  trained ours (rasa train) in {ours:.0f} s", flush=True)
    return {"stock": stock, "ours": ours}


def models(workdir: Path) -> dict[str, Path]:
    stock = sorted((workdir / "stock" / "models").glob("*.tar.gz"))
    ours = workdir / "ours" / "assistant.tar.gz"
    if not stock or not ours.exists():
        raise SystemExit(f"No trained models in {workdir}: run without --no-train first")
    return {"stock": stock[-1], "ours": ours}


def first_answer(url: str, timeout: float = 120) -> float:
    """Polls the REST channel until a greeting gets a non-empty reply; returns when (time.time())."""
    deadline = time.monotonic() + timeout
    with requests.Session() as session:
        while time.monotonic() < deadline:
            try:
                r = session.post(f"{url}/webhooks/rest/webhook",
                                 json={"sender": f"startup-{uuid.uuid4().hex[:8]}", "message": "hello"},
                                 timeout=30)
                if r.ok and any(m.get("text") for m in r.json()):
                    return time.time()
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.2)
    raise RuntimeError(f"{url}: no answer after {timeout}s")


@dataclass
class Bot:
    name: str
    url: str
    processes: dict[str, psutil.Process]  # "rasa", and "actions" for ours
    logs: list[Path]
    startup: dict


def start_stock(stack: ExitStack, workdir: Path) -> Bot:
    """`rasa run` in the stock bot's folder, with its own defaults."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "stock-rasa.log"
    env = {**ENV, "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    started_at = time.time()
    process = subprocess.Popen([str(RASA), "run", "--port", str(port)], cwd=workdir / "stock", env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)
    wait_until_up(f"{url}/", process, log)
    answered = first_answer(url)
    return Bot("stock", url, {"rasa": psutil.Process(process.pid)}, [log],
               {"seconds": answered - started_at})


def start_ours(stack: ExitStack, workdir: Path, model: Path) -> Bot:
    """The action server and Rasa server as scripts/local_servers.py starts them (endpoints.yml)."""
    servers = workdir / "ours-servers"  # logs, tracker store, feedback: new for each run
    shutil.rmtree(servers, ignore_errors=True)
    servers.mkdir()
    actions = action_server(servers)
    # Production settings: each simulated patient has its own address and sender.
    # As `make run` (Makefile: SANIC_WORKERS, which `make bench` passes on).
    cores = os.cpu_count() or 1
    rasa = rasa_server(servers, actions.url, guard=GUARD_DEFAULTS, model=model,
                       env={"SANIC_WORKERS": os.environ.get("SANIC_WORKERS", str(cores - 1 if cores > 2 else 1))})
    # Both started at once, as supervisord does for `make run`.
    started_at = time.time()
    stack.callback(actions.stop)
    stack.callback(rasa.stop)
    for server in (actions, rasa):
        server.launch()
    for server in (actions, rasa):
        server.wait_until_up()
    answered = first_answer(rasa.url)
    rasa_process = psutil.Process(rasa.process.pid)
    return Bot("ours", rasa.url,
               {"rasa": rasa_process, "actions": psutil.Process(actions.process.pid)},
               [actions.log, rasa.log],
               {"seconds": answered - started_at,
                "rasa_server_alone_seconds": answered - rasa_process.create_time()})


def memory(bot: Bot) -> dict:
    """Resident memory (MB) of each server process (with any children), and peak (VmHWM)."""
    out = {}
    for name, process in bot.processes.items():
        tree = [process, *process.children(recursive=True)]
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak = re.search(r"VmHWM:\s+(\d+) kB", status)
        out[name] = {"rss_mb": round(sum(p.memory_info().rss for p in tree) / 2**20, 1),
                     "peak_rss_mb": round(int(peak[1]) / 1024, 1) if peak else None,
                     "processes": len(tree)}
    out["total_rss_mb"] = round(sum(v["rss_mb"] for v in out.values()), 1)
    return out


def log_errors(bot: Bot) -> dict:
    counts = {}
    for log in bot.logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        counts[log.name] = {"error_lines": len(re.findall(r"\bERROR\b", text)),
                            "tracebacks": text.count("Traceback (most recent call last)")}
    return counts


# --- Report ------------------------------------------------------------------------

def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return {
        "cpu": model[1].strip() if model else platform.processor(),
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "rasa": version("rasa"), "rasa_sdk": version("rasa-sdk"),
        "tensorflow": version("tensorflow"), "spacy": version("spacy"),
        "platform": platform.platform(),
    }


def ratio(ours, stock) -> str:
    if ours is None or stock is None:
        return "-"
    if stock == 0:
        return "-" if ours == 0 else "inf"
    return f"{ours / stock:.2f}"


def table(report: dict) -> list[tuple[str, object, object]]:
    bots = report["bots"]
    rows: list[tuple[str, object, object]] = []

    def row(name: str, get) -> None:
        rows.append((name, get(bots["ours"]), get(bots["stock"])))

    if report["training_seconds"]:
        rows.append(("training time (s)", round(report["training_seconds"]["ours"], 1),
                     round(report["training_seconds"]["stock"], 1)))
    row("model size (MB)", lambda b: b["model_mb"])
    row("startup to first answer (s)", lambda b: round(b["startup"]["seconds"], 1))
    for load in ("conversations", "one_message"):
        for n in (1, *report["settings"]["concurrency"]):
            key = f"{load}/sequential" if n == 1 else f"{load}/concurrent_{n}"
            at = "1 at a time" if n == 1 else f"{n} at once"
            row(f"{load}, {at}: messages/s", lambda b: b["phases"][key]["messages_per_second"])
            for q in ("p50", "p95", "p99"):
                row(f"{load}, {at}: {q} (ms)", lambda b: b["phases"][key]["latency_ms"][q])

    def total(metric: str):
        return lambda b: sum(p[metric] for p in b["phases"].values())

    row("messages sent (all phases)", total("messages_sent"))
    row("failed requests (non-200, timeouts)", total("failed_requests"))
    row("empty replies", total("empty_replies"))
    row("fallback replies (\"can't look that up\")", total("fallback_replies"))
    row("RSS Rasa server (MB)", lambda b: b["memory"]["rasa"]["rss_mb"])
    row("RSS action server (MB)", lambda b: b["memory"].get("actions", {}).get("rss_mb"))
    row("RSS total (MB)", lambda b: b["memory"]["total_rss_mb"])
    return rows


def print_table(rows) -> None:
    print(f"\n{'metric':44} {'ours':>9} {'stock':>9} {'ours/stock':>11}")
    for name, ours, stock in rows:
        numeric = isinstance(ours, (int, float)) and isinstance(stock, (int, float))
        show = lambda v: "-" if v is None else str(v)  # noqa: E731
        print(f"{name:44} {show(ours):>9} {show(stock):>9} {ratio(ours, stock) if numeric else '-':>11}")


# --- Main --------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a few messages per phase, for trying the benchmark out")
    parser.add_argument("--workdir", type=Path,
                        help="keep models, logs and databases here (default: a temporary folder)")
    parser.add_argument("--no-train", action="store_true",
                        help="reuse the models an earlier run left in --workdir (no training times)")
    parser.add_argument("--py-spy", type=Path,
                        help="py-spy's path: profile ours under each load (bench/profile.py)")
    args = parser.parse_args()
    if args.no_train and not args.workdir:
        parser.error("--no-train needs --workdir")
    if not (SPACY_PIPELINE / "meta.json").exists():
        raise SystemExit(f"{SPACY_PIPELINE} missing: run `make train` first")
    settings = QUICK if args.quick else FULL

    with ExitStack() as stack:
        if args.workdir:
            workdir = args.workdir.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
            if not args.no_train:  # only what an earlier run left there
                for name in ("stock", "ours", "stock-cache", "ours-cache", "ours-servers"):
                    shutil.rmtree(workdir / name, ignore_errors=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-serving-")))
        report = benchmark(stack, workdir, settings, train_first=not args.no_train, py_spy=args.py_spy)

    report["quick"] = args.quick
    print_table(table(report))
    out = workdir / "serving.json" if args.quick or args.no_train else RESULTS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nDetails: {out}")


def profile(bot: Bot, py_spy: Path, workdir: Path, load: str, patients, max_seconds: float) -> dict:
    """Ours under 10 conversations at once with py-spy on each server; the top of each profile."""
    out = {}
    with ExitStack() as recordings:
        for name, process in bot.processes.items():
            recordings.enter_context(recording(py_spy, process.pid, workdir / f"profile-{load}-{name}.txt"))
        run_phase(bot.url, patients, max_seconds)
    for name in bot.processes:
        out[name] = top(workdir / f"profile-{load}-{name}.txt")
        print(f"\n  profile of ours' {name} server, load {load} ({out[name]['samples']} busy samples):")
        for frame, share in out[name]["total"]:
            print(f"    {share:5.1f}%  {frame}")
        for frame, share in out[name]["components"]:
            print(f"    {share:5.1f}%  component: {frame}")
    return out


def benchmark(stack: ExitStack, workdir: Path, settings: Settings, train_first: bool,
              py_spy: Path | None = None) -> dict:
    began = time.perf_counter()
    report: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "machine": machine(), "load_average_at_start": os.getloadavg(),
                    "settings": settings.__dict__ | {"concurrency": list(settings.concurrency)}}
    print(f"Serving benchmark, ours against the stock `rasa init` bot (work folder {workdir})", flush=True)
    report["training_seconds"] = train(workdir) if train_first else None
    paths = models(workdir)

    # Started one after the other (while one starts, the other is idle or not yet
    # started), then kept up together: every phase runs for both bots back to back.
    bots = {"stock": start_stock(stack, workdir)}
    print(f"  stock up: first answer {bots['stock'].startup['seconds']:.1f} s after start", flush=True)
    bots["ours"] = start_ours(stack, workdir, paths["ours"])
    print(f"  ours up: first answer {bots['ours'].startup['seconds']:.1f} s after start "
          f"(Rasa server alone {bots['ours'].startup['rasa_server_alone_seconds']:.1f} s)", flush=True)
    idle_memory = {name: memory(bot) for name, bot in bots.items()}

    workload = Workload()
    phases: dict[str, dict[str, Phase]] = {"stock": {}, "ours": {}}
    order = [["stock", "ours"], ["ours", "stock"]]  # alternates which bot goes first

    def both(name: str, patients, max_seconds=None, turn: int = 0) -> None:
        for bot in order[turn % 2]:
            phases[bot][name] = run_phase(bots[bot].url, patients, max_seconds)
        s, o = phases["stock"][name], phases["ours"][name]
        print(f"  {name}: {o.sent} messages to ours, {s.sent} to stock; "
              f"ours p95 {o.summary()['latency_ms']['p95']} ms, {o.per_second:.1f} msg/s; "
              f"stock p95 {s.summary()['latency_ms']['p95']} ms, {s.per_second:.1f} msg/s", flush=True)

    both("warmup", [workload.conversations(settings.warmup_messages)])
    loads = {"conversations": workload.patients, "one_message": workload.one_message_patients}
    for load, patients in loads.items():
        both(f"{load}/sequential", patients(1, settings.sequential_messages), turn=1)
        # Size the concurrent phases for the slower bot to take about target_seconds,
        # from its mean latency one at a time; the same messages then go to both bots.
        slowest = max(float(np.mean(phases[b][f"{load}/sequential"].latencies)) for b in phases)
        for turn, n in enumerate(settings.concurrency):
            messages = int(settings.target_seconds / slowest)
            both(f"{load}/concurrent_{n}", patients(n, messages), settings.max_seconds, turn=turn)

    # Profiled apart from the measured phases (py-spy takes CPU on a small machine).
    report["profiles"] = {}
    if py_spy:
        for load, patients in loads.items():
            report["profiles"][load] = profile(bots["ours"], py_spy, workdir, load,
                                               patients(10, int(settings.target_seconds / slowest)),
                                               settings.max_seconds)

    report["bots"] = {}
    for name in ("ours", "stock"):
        bot = bots[name]
        report["bots"][name] = {
            "model": str(paths[name].relative_to(workdir)),
            "model_mb": round(paths[name].stat().st_size / 2**20, 1),
            "startup": {k: round(v, 2) for k, v in bot.startup.items()},
            "phases": {k: v.summary() for k, v in phases[name].items()},
            "memory_after_startup": idle_memory[name],
            "memory": memory(bot),
            "server_log_errors": log_errors(bot),
        }
    report["bots"]["ours"]["settings"] = (
        "action server + Rasa server (scripts/local_servers.py): endpoints.yml, SQLite tracker "
        "and lock stores, one Rasa worker per core, REST channel, HTTP API on")
    report["bots"]["stock"]["settings"] = "`rasa run` in the `rasa init` folder: in-memory tracker store"
    report["load_average_at_end"] = os.getloadavg()
    report["total_seconds"] = round(time.perf_counter() - began, 1)
    print(f"  memory measured; total {report['total_seconds']:.0f} s", flush=True)
    return report


if __name__ == "__main__":
    main()
