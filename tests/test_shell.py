"""`make shell` driven like a person at a terminal: ask, read, pick a button by number;
and with the action server down, staff see what a patient would."""

import re
import sys

import pexpect

from actions import knowledge_base

from tests.conftest import ROOT, free_port

DOWN, ENTER = "\x1b[B", "\r"


def make_shell(tmp_path, action_server_port=None):
    """`make shell`; its Rasa server calls the action server on `action_server_port`
    (by default the one make shell starts)."""
    actions_port, rasa_port = free_port(), free_port()
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{action_server_port or actions_port}/webhook\n")
    shell = pexpect.spawn(
        "make", ["--no-print-directory", "shell", f"ACTIONS_PORT={actions_port}",
                 f"RASA_PORT={rasa_port}", f"ENDPOINTS={endpoints}", f"STORAGE={tmp_path}"],
        cwd=str(ROOT), encoding="utf-8", timeout=240, dimensions=(50, 200),
    )
    shell.logfile_read = sys.stdout  # shown by pytest when the test fails
    return shell


ANSWER_BUTTONS = 3  # a section answer's: "In simpler words", "This helped", "This didn't help"


def test_make_shell_answers_and_buttons_work(tmp_path):
    shell = make_shell(tmp_path)
    try:
        shell.expect("Your input ->")
        shell.sendline("what are the risks of a discogram?")
        shell.expect(re.escape("Lumbar discography (discogram), CPT 62290 — Risks and complications:"))
        shell.expect(re.escape("• Infection at the injection site."))
        # The answer offers "In simpler words" and two feedback buttons; the last choice
        # is to type freely.
        shell.expect("Type out your own message")
        shell.send(DOWN * ANSWER_BUTTONS + ENTER)
        shell.expect("Your input ->")
        # The conversation is about the discogram now: a follow-up stays on it.
        shell.sendline("how long does it take?")
        shell.expect(re.escape("Lumbar discography (discogram), CPT 62290 — How long it takes:"))
        shell.expect("Type out your own message")
        shell.send(DOWN * ANSWER_BUTTONS + ENTER)
        shell.expect("Your input ->")
        shell.sendline("which procedures do you know about?")
        shell.expect(re.escape("4: Interspinous spacer, second level (lumbar)"))
        shell.expect("Type out your own message")
        shell.send(DOWN * 3 + ENTER)  # the 4th button
        shell.expect(re.escape("Interspinous spacer, second level (lumbar), CPT +22870 — What it is:"))
        shell.expect(re.escape("This procedure involves placing a device between"))
        shell.expect("Type out your own message")
        other_sections = len(knowledge_base.default().get("+22870").document.sections) - 1
        shell.send(DOWN * (1 + other_sections) + ENTER)  # past "In simpler words" and the sections
        shell.expect("Your input ->")
        shell.sendline("/stop")
        shell.expect(pexpect.EOF, timeout=60)
    finally:
        shell.close(force=True)


def test_make_shell_with_the_action_server_down_shows_the_patients_fallback(tmp_path):
    nothing_there = free_port()  # no action server listens here
    shell = make_shell(tmp_path, action_server_port=nothing_there)
    try:
        shell.expect("Your input ->")
        shell.sendline("what are the risks of a discogram?")
        shell.expect(re.escape("Sorry, I can't look that up right now."))
        shell.expect("Your input ->")
        # Urgent advice needs no action server: staff see it as a patient would.
        shell.sendline("I can't feel my legs")
        shell.expect("What you describe can be a medical emergency")
        shell.expect("Your input ->")
        shell.sendline("/stop")
        shell.expect(pexpect.EOF, timeout=60)
    finally:
        shell.close(force=True)
