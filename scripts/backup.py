"""Backs up and restores the SQLite databases: conversations and feedback.

    make backup                                  # to BACKUP_DIR (backups), keeps BACKUP_KEEP (14)
    make restore FILE=backups/conversations-20261201T030000.000000Z.db

`backup` copies TRACKER_DB and FEEDBACK_DB with SQLite's online backup API: safe
while the servers run and write (the copy is one consistent moment), to dated
files `conversations-<UTC time>.db` and `feedback-<UTC time>.db`, each a single
self-contained file; then deletes all but the newest BACKUP_KEEP of each kind.

`restore` puts one such file back (the kind comes from its name), after checking
it. It refuses while a server runs: while a process has the database open, or
anything answers on the ports `make run` uses (RASA_PORT, ACTIONS_PORT). What it
replaces is kept next to it, as `<database>.replaced-<UTC time>`.

PostgreSQL (endpoints.scale-out.yml) has its own tools: pg_dump / pg_restore (docs/safety-and-privacy.md).
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import psutil

# Each kind of database: the variable naming it (Makefile), and a table it must hold.
KINDS = {"conversations": ("TRACKER_DB", "events"), "feedback": ("FEEDBACK_DB", "feedback")}


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def copy(source: Path, target: Path) -> None:
    """`source` into `target` with SQLite's backup API; `target` ends as one file (no WAL)."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as reading, \
            closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)
        writing.execute("PRAGMA journal_mode=DELETE")


def backup(directory: Path, keep: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    made = []
    when = stamp()
    for kind, (variable, _) in KINDS.items():
        source = Path(os.environ[variable])
        if not source.exists():
            print(f"{kind}: {source} does not exist yet, nothing to back up.")
            continue
        target = directory / f"{kind}-{when}.db"
        copy(source, target)
        made.append(target)
        print(f"{kind}: {source} -> {target}")
        for old in sorted(directory.glob(f"{kind}-*.db"))[:-keep]:
            old.unlink()
            print(f"{kind}: deleted the older backup {old}")
    return made


def kind_of(file: Path) -> str:
    kind = file.name.split("-", 1)[0]
    if kind not in KINDS:
        raise SystemExit(f"{file}: not a backup made by `make backup` (conversations-... or feedback-...)")
    return kind


def check(file: Path, table: str) -> None:
    """Refuses a file that is not a sound SQLite database holding `table`."""
    try:
        with closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as db:
            sound = db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        raise SystemExit(f"{file}: not a readable SQLite database ({error}).") from None
    if not sound or table not in tables:
        raise SystemExit(f"{file}: damaged, or not a {table} database: nothing restored.")


def servers_running(database: Path, ports: list[int]) -> list[str]:
    """Why restoring `database` now would be unsafe ([] when it is safe)."""
    reasons = []
    paths = {str(database.resolve()), f"{database.resolve()}-wal"}
    for process in psutil.process_iter(["pid", "name"]):
        try:
            if any(f.path in paths for f in process.open_files()):
                reasons.append(f"process {process.pid} ({process.info['name']}) has {database} open")
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    for port in ports:
        with socket.socket() as probe:
            probe.settimeout(2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                reasons.append(f"a server listens on port {port}")
    return reasons


def restore(file: Path, ports: list[int]) -> Path:
    if not file.is_file():
        raise SystemExit(f"{file}: no such backup.")
    kind = kind_of(file)
    variable, table = KINDS[kind]
    check(file, table)
    target = Path(os.environ[variable])
    running = servers_running(target, ports)
    if running:
        raise SystemExit("Stop the assistant first (Ctrl-C in `make run`): " + "; ".join(running) + ".")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        kept = target.with_name(f"{target.name}.replaced-{stamp()}")
        copy(target, kept)  # through SQLite: what is still in its WAL is kept too
        print(f"{kind}: the current {target} is kept as {kept}")
    copy(file, target)
    print(f"{kind}: restored {file} -> {target}")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("backup")
    making.add_argument("--dir", type=Path, required=True)
    making.add_argument("--keep", type=int, required=True)
    restoring = commands.add_parser("restore")
    restoring.add_argument("file", type=Path)
    restoring.add_argument("--ports", type=int, nargs="*", default=[],
                           help="ports that must be free (the servers are stopped)")
    args = parser.parse_args()
    if args.command == "backup":
        if args.keep < 1:
            parser.error("--keep (BACKUP_KEEP) must be at least 1")
        backup(args.dir, args.keep)
    else:
        restore(args.file, args.ports)


if __name__ == "__main__":
    main()
