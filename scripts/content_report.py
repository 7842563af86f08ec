"""What patients asked that the assistant could not answer well, for the content team.

    make report              # reads storage/feedback.db (or $FEEDBACK_DB)
    python -m scripts.content_report --db path/to/feedback.db
"""

import argparse
from contextlib import closing
from pathlib import Path

from actions import feedback

LATEST_QUESTIONS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=feedback.database_path())
    args = parser.parse_args()
    if not args.db.exists():
        print(f"No feedback recorded yet ({args.db} does not exist).")
        return
    with closing(feedback.connect(args.db)) as db:
        def rows(sql: str):
            return db.execute(sql).fetchall()

        print("Events by kind:")
        for kind, count in rows("SELECT kind, COUNT(*) FROM feedback GROUP BY kind ORDER BY 2 DESC"):
            print(f"  {kind:22} {count}")
        for column in ("intent", "procedure"):
            print(f"\nNot helped or not answered, by {column}:")
            for kind, value, count in rows(
                f"SELECT kind, COALESCE({column}, '-'), COUNT(*) FROM feedback "
                f"WHERE kind != 'helpful' GROUP BY 1, 2 ORDER BY 3 DESC"
            ):
                print(f"  {kind:22} {value:24} {count}")
        print(f"\nLatest questions not answered or not helped (up to {LATEST_QUESTIONS}):")
        for day, kind, procedure, question in rows(
            "SELECT day, kind, COALESCE(procedure, '-'), question FROM feedback "
            f"WHERE question IS NOT NULL ORDER BY rowid DESC LIMIT {LATEST_QUESTIONS}"
        ):
            print(f"  {day} {kind:20} {procedure:7} {question}")


if __name__ == "__main__":
    main()
