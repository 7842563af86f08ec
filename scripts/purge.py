"""Deletes conversations and feedback older than the retention period.

    make purge                      # RETENTION_DAYS=30 unless set
    make purge RETENTION_DAYS=7

A conversation is deleted, all its events, once its last message is older than
the retention period; feedback rows (storage/feedback.db) once their day is. The
tracker store is the one the Rasa server uses: SQLite or PostgreSQL, read from
$ENDPOINTS (endpoints.yml unless set). Run it daily, e.g. from cron (docs/safety-and-privacy.md).
"""

from __future__ import annotations

import argparse
import time
from contextlib import closing
from datetime import date, timedelta

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.utils.endpoints import read_endpoint_config

from actions import feedback


def purge_conversations(store: SQLTrackerStore, cutoff: float) -> int:
    """Deletes the events of every conversation whose last event is before `cutoff`."""
    events = store.SQLEvent
    old = (
        sa.select(events.sender_id)
        .group_by(events.sender_id)
        .having(sa.func.max(events.timestamp) < cutoff)
    )
    with store.session_scope() as session:
        senders = [row[0] for row in session.execute(old)]
        session.query(events).filter(events.sender_id.in_(senders)).delete(synchronize_session=False)
        session.commit()
    return len(senders)


def purge_feedback(cutoff: date) -> int:
    with closing(feedback.connect()) as connection, connection:
        return connection.execute("DELETE FROM feedback WHERE day < ?", (cutoff.isoformat(),)).rowcount


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, required=True, help="retention period in days")
    parser.add_argument("--endpoints", default="endpoints.yml")
    args = parser.parse_args()
    if args.days < 1:
        parser.error("--days must be at least 1")

    store = TrackerStore.create(read_endpoint_config(args.endpoints, "tracker_store"))
    if not isinstance(store, SQLTrackerStore):
        raise SystemExit(f"{args.endpoints}: purge works on SQL tracker stores, not {type(store).__name__}")
    conversations = purge_conversations(store, time.time() - args.days * 86400)
    rows = purge_feedback(date.today() - timedelta(days=args.days))
    print(f"Deleted {conversations} conversation(s) and {rows} feedback row(s) older than {args.days} days.")


if __name__ == "__main__":
    main()
