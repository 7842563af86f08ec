"""The README and docs/ say only what is true of this repository.

Every link goes somewhere (a file, a heading, or a known site), every `make`
target exists, every file or folder named in backticks exists (or is one that
the commands make), every `python -m` module exists, every Compose service named
exists, and the README's question to the assistant gets the documented answer
from the real servers. `make run` and `make test` themselves are run by
tests/test_make_run.py and CI; `docker compose up` by tests/deploy/.
"""

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Sites the docs name; nothing here fetches them (no network in the tests).
KNOWN_SITES = ("https://helm.rasa.com", "https://api.slack.com", "https://core.telegram.org",
               "https://www.clinic.example", "https://assistant.clinic.example")
# Made by the commands (gitignored), or examples of a clinic's own files.
MADE_BY_COMMANDS = ("models/", "storage/", "results/", ".env", ".venv", "webchat/public/widget",
                    "webchat/public/socket.io", "webchat/node_modules", "/etc/", "/srv/", "~/",
                    "bench/results/", "/data", "/app", "/opt/venv", "/tmp/", "backups/")
# Names of other projects' files: PostgreSQL's, Rasa's charts (RasaHQ/helm-charts).
ELSEWHERE = ("pg_hba.conf", "postgresql.conf", "rasa/rasa", "charts/rasa")
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def text(document: Path) -> str:
    return document.read_text()


def prose(document: Path) -> str:
    """The text without its fenced blocks."""
    return FENCE.sub("", text(document))


def shell_lines(document: Path) -> list[str]:
    lines = []
    for language, block in FENCE.findall(text(document)):
        if language in ("sh", "bash", "console", ""):
            lines += [line.split(" #")[0].strip() for line in block.replace("\\\n", " ").splitlines()]
    return [line for line in lines if line]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(document: Path) -> set[str]:
    return {slug(m) for m in re.findall(r"(?m)^#+ (.+)$", prose(document))}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_link_goes_somewhere(document):
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(document)):
        if target.startswith(("http://", "https://")):
            assert target.startswith(KNOWN_SITES) or re.match(r"http://(localhost|127\.0\.0\.1):\d+", target), target
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.exists(), f"{document.name}: {target}"
        if anchor:
            assert anchor in anchors(linked), f"{document.name}: {target} (no such heading)"


def make_targets() -> set[str]:
    database = subprocess.run(["make", "-pRrq", "-f", "Makefile", ":"], cwd=ROOT, capture_output=True,
                              text=True).stdout
    return set(re.findall(r"(?m)^([a-zA-Z][\w-]*):(?!=)", database))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_make_target_named_exists(document):
    targets = make_targets()
    named = set(re.findall(r"`make ([a-z][\w-]*)", prose(document)))
    named |= {line.split()[1] for line in shell_lines(document) if line.startswith("make ") and len(line.split()) > 1}
    if document.name == "README.md":
        assert {"run", "test"} <= named
    assert not named - targets, f"{document.name}: no such target: {sorted(named - targets)}"


def looks_like_a_path(token: str) -> bool:
    return (("/" in token or re.search(r"\.(yml|yaml|py|md|txt|conf|template|json|html|js|css|in)$", token))
            and not re.search(r"[\s<>*$=:{}|\[\]\"']|^-|^https?|^\.\.\.|^/webhooks|^/conversations|^/model"
                              r"|^/status|^/health|^/socket|^/$", token))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_file_named_exists(document):
    missing = []
    for token in re.findall(r"`([^`\n]+)`", prose(document)):
        if (not looks_like_a_path(token) or token.startswith(MADE_BY_COMMANDS + ELSEWHERE)
                or re.fullmatch(r"/\w+", token)):  # a bot command (Telegram's /newbot)
            continue
        if not (ROOT / token).exists() and not list(ROOT.glob(f"**/{token}")):
            missing.append(token)
    assert not missing, f"{document.name}: {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_command_names_real_modules_files_and_services(document):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for line in shell_lines(document):
        words = shlex.split(line, comments=True) if "'" not in line or line.count("'") % 2 == 0 else line.split()
        for i, word in enumerate(words):
            if word == "-m" and i + 1 < len(words) and words[i + 1].startswith("scripts."):
                module = ROOT / (words[i + 1].replace(".", "/") + ".py")
                assert module.exists(), f"{document.name}: {line}"
            if word in ("-f", "--values") and i + 1 < len(words) and not words[i + 1].startswith("/"):
                assert (ROOT / words[i + 1]).exists() or words[i + 1].endswith("rasa-values.yaml"), line
        if words[:2] == ["docker", "compose"]:
            services = [w for w in words[2:] if w in compose or not w.startswith("-")]
            for service in services[services.index("up") + 1:] if "up" in services else []:
                assert service in compose, f"{document.name}: no Compose service {service}: {line}"


def test_the_readmes_question_gets_the_documented_answer(assistant):
    """The README's curl command, word for word but for the port, against the real servers."""
    command = next(line for line in shell_lines(ROOT / "README.md") if line.startswith("curl"))
    command = command.replace("localhost:5005", assistant.url)
    answer = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert "Lumbar discography (discogram), CPT 62290 — Risks and complications:" in json.loads(answer.stdout)[0]["text"]
