"""One-off: moves the README's sections into docs/, word for word (issue 13).

Kept for merging README edits made in parallel before the split: run it on the
merged README, then re-apply docs/deployment.md's new parts. Delete it after that.

    python -m scripts.split_readme
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# docs file -> (title, who it is for, the README's "## " sections it takes, in order)
DOCS = {
    "channels.md": ("Channels: web chat widget, Slack, Telegram",
                    "For: whoever puts the assistant on the clinic's website, Slack or Telegram.",
                    ["Web chat widget", "Slack and Telegram"]),
    "deployment.md": ("Deployment: Compose, replicas, Kubernetes",
                      "For: the clinic's IT team, running the assistant on one server or several.",
                      ["Reliability and limits", "Several replicas: PostgreSQL and Redis"]),
    "safety-and-privacy.md": ("Safety and privacy",
                              "For: clinicians, the privacy officer, and anyone reviewing what the assistant says and stores.",
                              ["Safety and honesty", "Privacy: what is stored, where, for how long"]),
    "content.md": ("Content: what the assistant knows, adding a procedure",
                   "For: the content team, who write and check the procedure documents.",
                   ["What it knows", "Adding a procedure"]),
    "performance.md": ("Performance",
                       "For: whoever sizes the servers or changes the NLU pipeline.",
                       ["Performance"]),
    "development.md": ("Development: how it works, layout, make targets, tests",
                       "For: developers changing the assistant.",
                       ["How it works", "Layout", "Make targets", "Tests"]),
}


def sections(text: str) -> tuple[str, dict[str, str]]:
    """The text before the first "## " heading, and each "## " section by its heading."""
    parts = re.split(r"(?m)^(?=## )", text)
    head, found = parts[0], {}
    for part in parts[1:]:
        found[part.splitlines()[0][3:].strip()] = part.rstrip() + "\n"
    return head, found


def main() -> None:
    head, found = sections((ROOT / "README.md").read_text())
    moved = set()
    for name, (title, audience, wanted) in DOCS.items():
        body = "\n".join(found[heading] for heading in wanted)
        (ROOT / "docs" / name).write_text(f"# {title}\n\n{audience}\n\n{body}")
        moved.update(wanted)
    left = [heading for heading in found if heading not in moved]
    if left:
        raise SystemExit(f"sections with no place in docs/: {left}")
    (ROOT / "README.md").write_text(head.rstrip().removesuffix("---").rstrip() + "\n")


if __name__ == "__main__":
    main()
