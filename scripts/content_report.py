"""What patients asked that the assistant could not answer well, for the content team.

    make report              # reads storage/feedback.db (or $FEEDBACK_DB)
    python -m scripts.content_report --db path/to/feedback.db

It ends with the guard's replies (channels/guard.py) per day: the fallbacks by
cause, and the empty, too long and rate-limited messages (counted, never stored).
"""

import argparse
from contextlib import closing
from pathlib import Path

from actions import feedback

LATEST_QUESTIONS = 30
GUARD = "guard_%"  # the kinds the guard records (SQL LIKE)
GUARD_COLUMNS = {  # kind -> column of the guard's table
    "guard_fallback_no_reply": "no reply", "guard_fallback_timeout": "too slow",
    "guard_fallback_error": "error", "guard_empty": "empty", "guard_too_long": "too long",
    "guard_rate_limited": "too fast",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=feedback.database_path())
    args = parser.parse_args()
    if not args.db.exists():
        print(f"No feedback recorded yet ({args.db} does not exist).")
        return
    with closing(feedback.connect(args.db)) as db:
        def rows(sql: str):
            return db.execute(sql, {"guard": GUARD}).fetchall()

        print("Events by kind:")
        for kind, count in rows("SELECT kind, COUNT(*) FROM feedback WHERE kind NOT LIKE :guard "
                                "GROUP BY kind ORDER BY 2 DESC"):
            print(f"  {kind:22} {count}")
        for column in ("intent", "procedure"):
            print(f"\nNot helped or not answered, by {column}:")
            for kind, value, count in rows(
                f"SELECT kind, COALESCE({column}, '-'), COUNT(*) FROM feedback "
                f"WHERE kind != 'helpful' AND kind NOT LIKE :guard GROUP BY 1, 2 ORDER BY 3 DESC"
            ):
                print(f"  {kind:22} {value:24} {count}")
        print(f"\nLatest questions not answered or not helped (up to {LATEST_QUESTIONS}):")
        for day, kind, procedure, question in rows(
            "SELECT day, kind, COALESCE(procedure, '-'), question FROM feedback "
            f"WHERE question IS NOT NULL ORDER BY rowid DESC LIMIT {LATEST_QUESTIONS}"
        ):
            print(f"  {day} {kind:20} {procedure:7} {question}")
        print_guard_replies(rows("SELECT day, kind, COUNT(*) FROM feedback WHERE kind LIKE :guard "
                                 "GROUP BY 1, 2 ORDER BY 1"))


def print_guard_replies(counts: list) -> None:
    """A table: one row per day, the fallbacks by cause, then the refused messages."""
    print("\nReplies of the guard, per day: fallbacks (no reply: action server down or an action "
          "failed; too slow; error), refused messages (empty, too long, too fast):")
    by_day: dict = {}
    for day, kind, count in counts:
        by_day.setdefault(day, {})[GUARD_COLUMNS.get(kind, kind)] = count
    columns = list(GUARD_COLUMNS.values())
    print("  " + "day".ljust(10) + "".join(f"{column:>10}" for column in columns))
    for day, count in by_day.items():
        print("  " + day.ljust(10) + "".join(f"{count.get(column, 0):>10}" for column in columns))
    if not by_day:
        print("  none")


if __name__ == "__main__":
    main()
