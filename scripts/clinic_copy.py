"""A copy of the project with a procedure added the way docs/content.md tells a clinic to.

Used by the test that adds a sixth procedure and by `make bench-nlu`: its
steps are the document, its metadata entry, taking its names out of
other_topics.yml, and `make train`, with no edit to data/nlu/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

from scripts.local_servers import ENV, ROOT

ADDED = ROOT / "tests" / "fixtures" / "added_procedure"  # a lumbar epidural steroid injection


def copy_project(destination: Path) -> Path:
    """The project's files (those git tracks or would: not what it ignores), times kept,
    and this venv linked in."""
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, tracked):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    os.symlink(ROOT / ".venv", destination / ".venv")
    return destination


def add_procedure(project: Path, document: Path, metadata: Path) -> list[str]:
    """Steps 1 to 3 of "Adding a procedure"; returns the names taken out of other_topics.yml."""
    knowledge_base = project / "data" / "knowledge_base"
    shutil.copy(document, knowledge_base / document.name)
    [entry] = yaml.safe_load(metadata.read_text())["procedures"]
    with (knowledge_base / "procedures.yml").open("a") as procedures:
        procedures.write("\n" + metadata.read_text().split("procedures:", 1)[1])
    names = {n.casefold() for n in [entry["name"], *entry["lay_names"], *entry.get("abbreviations", [])]}
    topics_file = knowledge_base / "other_topics.yml"
    lines = topics_file.read_text().splitlines(keepends=True)
    removed = [line.strip()[2:] for line in lines if line.strip()[2:].casefold() in names]
    topics_file.write_text("".join(line for line in lines if line.strip()[2:] not in removed))
    return removed


def train(project: Path, log: Path) -> None:
    """`make train` in the copy, with this project's Rasa cache, as a clinic's project has
    its own from its last training: what the new procedure does not change is restored."""
    cache = os.environ.get("RASA_CACHE_DIRECTORY", str(ROOT / ".rasa" / "cache"))
    with log.open("w") as output:
        subprocess.run(["make", "--no-print-directory", "train"], cwd=project, env={**ENV, "RASA_CACHE_DIRECTORY": cache},
                       stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=True)


def with_added_procedure(workdir: Path) -> Path:
    """A trained copy of the project that knows the added procedure."""
    project = copy_project(workdir / "clinic")
    add_procedure(project, ADDED / "62323.txt", ADDED / "procedure.yml")
    train(project, workdir / "clinic-train.log")
    return project
