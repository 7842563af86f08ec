"""The web chat widget (webchat/) in a real browser, against the real assistant.

Debian's headless Chromium (/usr/bin/chromium, installed by `make install`) driven
by Playwright; the Rasa server and action server run the trained model with the
socketio channel of credentials.yml (channels/socketio.py); the demo clinic page
(webchat/public/, as `make install` builds it) is served here on a free port.
Bot messages a real Rasa server never sends (script, `javascript:` links) come
from a stand-in socket.io server speaking the same protocol, so they reach the
widget through its real socket handler. Screenshots: results/webchat/.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import requests
import socketio
import yaml
from aiohttp import web
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import GUARD_OFF, ROOT, free_port, running_assistant

WEBCHAT = ROOT / "webchat"
PUBLIC = WEBCHAT / "public"
SCREENSHOTS = ROOT / "results" / "webchat"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SOCKETIO_CHANNEL = "channels.socketio.SocketIOInput"
DEMO_SERVER_URL = 'data-server-url="http://localhost:5005"'
TITLE = "Questions about your procedure?"
UNREACHABLE = "Cannot reach the assistant"
REPLY_TIMEOUT = 30_000  # ms

# Would set window.__xss (or open a dialog) if the widget let it run.
IMG = "<img src=x onerror=\"window.__xss='{}'; alert(1)\">"
JS_LINK = "javascript:window.__xss='{}';alert(1)"


# ---------- servers ----------


def credentials(origin: str) -> str:
    """credentials.yml's socketio channel, allowing only the test page's origin."""
    shipped = yaml.safe_load((ROOT / "credentials.yml").read_text())
    channel = shipped[SOCKETIO_CHANNEL]
    assert channel["session_persistence"] is True
    assert (channel["user_message_evt"], channel["bot_message_evt"]) == ("user_uttered", "bot_uttered")
    return yaml.safe_dump(
        {"channels.rest.RestInput": None, SOCKETIO_CHANNEL: {**channel, "cors_allowed_origins": [origin]}}
    )


class PageServer:
    """Serves webchat/public/ (what `make run` serves on :8080) on 127.0.0.1.

    `/` is the demo page with the widget pointed at `rasa_url`; `/port-N.html`
    is the same page pointed at http://127.0.0.1:N.
    """

    def __init__(self, port: int, rasa_url: str):
        demo = (PUBLIC / "index.html").read_text()
        assert demo.count(DEMO_SERVER_URL) == 1, "demo page's widget tag changed"

        def page_for(server_url: str) -> bytes:
            return demo.replace(DEMO_SERVER_URL, f'data-server-url="{server_url}"').encode()

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                target = re.fullmatch(r"/port-(\d+)\.html", path)
                if path in ("/", "/index.html") or target:
                    body = page_for(f"http://127.0.0.1:{target[1]}" if target else rasa_url)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    super().do_GET()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), partial(Handler, directory=str(PUBLIC)))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class StandInBot:
    """A socket.io server speaking Rasa's socketio protocol, with scripted replies.

    "slow" is answered after 2 s; "hostile" with messages a compromised or
    misconfigured bot could send; anything else is echoed back as a bot message.
    """

    HOSTILE = [
        {"text": "Script: <script>window.__xss='bot-script'</script>\n"
                 f"Image: {IMG.format('bot-img')}\n"
                 f"• [Read more]({JS_LINK.format('bot-md-link')})\n"
                 f"• {JS_LINK.format('bot-bare-link')}\n"
                 "• After-care sheet: https://example.org/after-care."},
        {"text": "Pick one:",
         "quick_replies": [{"content_type": "text", "title": IMG.format("button-title"),
                            "payload": JS_LINK.format("button-payload")}]},
        {"attachment": {"type": "image", "payload": {"src": JS_LINK.format("image-src")}}},
    ]

    def __init__(self, port: int):
        self.port = port
        self.received: list[str] = []

    def start(self) -> "StandInBot":
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self):
        sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
        app = web.Application()
        sio.attach(app)

        @sio.on("session_request")
        async def session_request(sid, data):
            await sio.emit("session_confirm", "0" * 32, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid, data):
            text = data["message"]
            self.received.append(text)
            if text == "slow":
                await asyncio.sleep(2)
                replies = [{"text": "Here is the slow answer."}]
            elif text == "hostile":
                replies = self.HOSTILE
            else:
                replies = [{"text": f"You said: {text}"}]
            for reply in replies:
                await sio.emit("bot_uttered", reply, room=sid)

        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port, shutdown_timeout=0.1).start()

    def stop(self):
        """Like a crash: the port closes and open connections drop."""
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _stop(self):
        await self.runner.cleanup()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture(scope="module")
def served_widget() -> None:
    """webchat/public/ must hold what `make install` builds, up to date."""
    for name in ("widget.js", "widget.css"):
        built, source = PUBLIC / name, WEBCHAT / "src" / name
        if not built.exists() or built.read_bytes() != source.read_bytes():
            pytest.fail(f"{built} missing or older than {source}: run `make install`")
    if not (PUBLIC / "socket.io.min.js").exists():
        pytest.fail(f"{PUBLIC / 'socket.io.min.js'} missing: run `make install`")


@pytest.fixture(scope="module")
def web_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, web_port, served_widget):
    """The real Rasa + action servers; the socketio channel allows the test page's origin."""
    workdir = tmp_path_factory.mktemp("webchat")
    with running_assistant(workdir, credentials=credentials(f"http://127.0.0.1:{web_port}"),
                           guard=GUARD_OFF) as running:
        yield running


@pytest.fixture(scope="module")
def site(assistant, web_port) -> Iterator[PageServer]:
    server = PageServer(web_port, assistant.url)
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: run `make install` (scripts/install-system-packages)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    """A fresh browser session (own sessionStorage) with a desktop-sized window."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


# ---------- helpers: what the patient sees ----------


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"\nscreenshot: {path}")
    return path


def open_chat(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name=TITLE).click()
    expect(page.get_by_role("textbox", name="Your question")).to_be_focused()


def ask(page: Page, question: str) -> None:
    box = page.get_by_role("textbox", name="Your question")
    box.fill(question)
    box.press("Enter")  # the keyboard sends
    expect(box).to_have_value("")


def bot_messages(page: Page):
    return page.locator(".spc-from-bot .spc-bubble")


def user_messages(page: Page):
    return page.locator(".spc-from-user .spc-bubble")


def wait_for_reply(page: Page, count_before: int, containing: str):
    """The first bot message after the first `count_before`, once it contains `containing`."""
    reply = bot_messages(page).nth(count_before)
    expect(reply).to_contain_text(containing, timeout=REPLY_TIMEOUT)
    return reply


def announcements(page: Page):
    return page.locator("#spine-chat [aria-live=polite]")


def session_id(page: Page) -> str:
    stored = page.evaluate(
        "() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)"
        ".find(k => k.startsWith('spine-chat:'))))"
    )
    return stored["sessionId"]


# ---------- tests ----------


def test_conversation_buttons_and_reload(page, site, assistant):
    open_chat(page, site.url)
    expect(page.get_by_role("alert")).to_be_hidden()

    # No procedure named: the bot asks which, with buttons.
    ask(page, "how long does it take?")
    expect(user_messages(page).last).to_have_text("how long does it take?")
    wait_for_reply(page, 1, "Which procedure would you like to know about (how long it takes)?")
    buttons = page.get_by_role("group", name="Suggested replies").get_by_role("button")
    expect(buttons).to_have_count(5)
    # Screen readers are told about the new message.
    expect(announcements(page)).to_contain_text("Which procedure would you like to know about")

    # The buttons are reachable with the keyboard and show where the focus is.
    page.get_by_role("textbox", name="Your question").focus()
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate(
        "() => { const e = document.getElementById('spine-chat').shadowRoot.activeElement;"
        " const s = getComputedStyle(e);"
        " return {text: e.textContent, outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"
    )
    assert focused["text"] == buttons.last.text_content()
    assert focused["outline"] != "none" and focused["width"] >= 2, focused
    screenshot(page, "keyboard-focus")

    # A click sends the button's payload and shows its title as the patient's message.
    buttons.filter(has_text="Interspinous spacer, second level (lumbar)").click()
    expect(user_messages(page).last).to_have_text("Interspinous spacer, second level (lumbar)")
    answer = wait_for_reply(page, 2, "Typically takes about 1 to 2 hours.")
    expect(answer).to_contain_text("CPT +22870 — How long it takes:")
    # The question's buttons are gone (the answer may already show its own).
    expect(buttons.filter(has_text="Lumbar discography (discogram)")).to_have_count(0)

    # A question, answered with the document's bullet list, one bullet per line.
    ask(page, "what are the risks of a discogram?")
    answer = wait_for_reply(page, 3, "Infection at the injection site")
    expect(answer.locator(".spc-line").first).to_have_text(
        "Lumbar discography (discogram), CPT 62290 — Risks and complications:"
    )
    first = answer.locator(".spc-line", has_text="Infection at the injection site.")
    second = answer.locator(".spc-line", has_text="Bleeding or hematoma.")
    expect(first).to_have_text("• Infection at the injection site.")
    assert second.bounding_box()["y"] >= first.bounding_box()["y"] + first.bounding_box()["height"] - 1
    expect(announcements(page)).to_contain_text("Infection at the injection site")
    screenshot(page, "conversation")

    # Reload: the conversation is still on screen, with the same session.
    before = session_id(page)
    shown = page.locator(".spc-message").all_text_contents()
    page.reload()
    expect(page.get_by_role("textbox", name="Your question")).to_be_visible()
    expect(page.locator(".spc-message")).to_have_count(len(shown))
    assert page.locator(".spc-message").all_text_contents() == shown
    expect(bot_messages(page).nth(3)).to_contain_text("• Infection at the injection site.")
    expect(bot_messages(page).nth(3).locator(".spc-line").last).to_be_in_viewport()  # scrolled to the end
    assert session_id(page) == before
    screenshot(page, "after-reload")

    # ...and the server-side conversation goes on: "what about X?" keeps the question.
    ask(page, "what about nucleoplasty?")
    reply = wait_for_reply(page, 4, "CPT 62287")
    expect(reply).to_contain_text(
        "Percutaneous disc decompression (nucleoplasty), CPT 62287 — Risks and complications:"
    )
    expect(reply).to_contain_text("• Discitis (disc infection).")
    tracker = requests.get(
        f"{assistant.url}/conversations/{before}/tracker",
        params={"token": assistant.token}, timeout=30,
    ).json()
    said = [event.get("text") for event in tracker["events"] if event["event"] == "user"]
    assert "what are the risks of a discogram?" in said and "what about nucleoplasty?" in said
    screenshot(page, "after-reload-reply")


def focused_text(page: Page) -> str:
    return page.evaluate("() => document.getElementById('spine-chat').shadowRoot.activeElement.textContent")


def test_in_simpler_words_works_with_the_keyboard_and_a_screen_reader(page, site, assistant):
    open_chat(page, site.url)
    ask(page, "what are the risks of a discogram?")
    wait_for_reply(page, 1, "Bleeding or hematoma.")
    replies = page.get_by_role("group", name="Suggested replies")
    # A button like the others, with its name for a screen reader.
    simpler = replies.get_by_role("button", name="In simpler words")
    expect(simpler).to_be_visible()

    # Reached from the question box with Shift+Tab, pressed with Enter.
    page.get_by_role("textbox", name="Your question").focus()
    for _ in range(replies.get_by_role("button").count()):
        page.keyboard.press("Shift+Tab")
        if focused_text(page) == "In simpler words":
            break
    assert focused_text(page) == "In simpler words"
    screenshot(page, "simpler-words-focus")
    page.keyboard.press("Enter")

    answer = wait_for_reply(page, 2, "in simpler words:")
    expect(answer).to_contain_text("This is a plain-language version of the clinic's document.")
    expect(answer.locator(".spc-line", has_text="pool of blood under the skin (hematoma)")).to_have_count(1)
    # Read out to a screen reader, and the keyboard stays in the chat.
    expect(announcements(page)).to_contain_text("This is a plain-language version of the clinic's document.")
    expect(page.get_by_role("textbox", name="Your question")).to_be_focused()

    # "What does X mean?" typed in the widget.
    ask(page, "what does fluoroscopy mean?")
    definition = wait_for_reply(page, 3, "Fluoroscopy: A kind of X-ray that shows a live video")
    expect(definition).to_contain_text("The clinic's documents use this word in:")
    screenshot(page, "simpler-words")


def test_message_content_never_runs(page, site):
    bot = StandInBot(free_port()).start()
    try:
        open_chat(page, f"{site.url}/port-{bot.port}.html")
        # Control: this page does run the payload when it is inserted as HTML.
        page.evaluate(f"() => document.body.insertAdjacentHTML('beforeend', `{IMG.format('control')}`)")
        page.wait_for_function("() => window.__xss === 'control'")
        assert page.dialogs == ["1"]
        page.evaluate("() => { window.__xss = undefined; document.querySelector('body > img').remove(); }")
        page.dialogs.clear()

        # Typed by the patient (and echoed back by the bot).
        typed = f"{IMG.format('user-img')} {JS_LINK.format('user-link')}"
        ask(page, typed)
        expect(user_messages(page).last).to_have_text(typed)
        wait_for_reply(page, 1, f"You said: {typed}")

        # Sent by the bot: script, HTML, javascript: links, a javascript: image.
        ask(page, "hostile")
        text = wait_for_reply(page, 2, "After-care sheet")
        expect(text).to_contain_text("<script>window.__xss='bot-script'</script>")
        expect(text).to_contain_text(IMG.format("bot-img"))
        expect(text).to_contain_text(f"[Read more]({JS_LINK.format('bot-md-link')})")
        hostile_button = page.get_by_role("button", name=IMG.format("button-title"))
        expect(hostile_button).to_be_visible()

        widget = page.locator("#spine-chat")
        expect(widget.locator("img, script, iframe, object, embed")).to_have_count(0)
        links = widget.locator("a")
        expect(links).to_have_count(1)  # only the https link is clickable
        expect(links).to_have_attribute("href", "https://example.org/after-care")
        expect(links).to_have_text("https://example.org/after-care")
        expect(links).to_have_attribute("rel", re.compile("noopener"))
        screenshot(page, "hostile-messages")

        # Clicking the javascript: text and the hostile button runs nothing either.
        text.get_by_text(JS_LINK.format("bot-bare-link")).click()
        hostile_button.click()
        expect(user_messages(page).last).to_have_text(IMG.format("button-title"))
        wait_for_reply(page, 4, f"You said: {JS_LINK.format('button-payload')}")
        page.wait_for_timeout(1000)  # time for any onerror/handler to fire
        assert page.evaluate("() => window.__xss") is None
        assert page.dialogs == []
        assert bot.received[-1] == JS_LINK.format("button-payload")  # sent as plain text
    finally:
        bot.stop()


def test_typing_indicator_and_announcements(page, site):
    bot = StandInBot(free_port()).start()
    try:
        open_chat(page, f"{site.url}/port-{bot.port}.html")
        typing = page.get_by_text("The assistant is typing")
        expect(page.locator(".spc-typing")).to_be_hidden()
        ask(page, "slow")
        expect(page.locator(".spc-typing")).to_be_visible()
        expect(typing).to_be_attached()
        screenshot(page, "typing")
        wait_for_reply(page, 1, "Here is the slow answer.")
        expect(page.locator(".spc-typing")).to_be_hidden()
        expect(announcements(page)).to_contain_text("Assistant: Here is the slow answer.")
    finally:
        bot.stop()


def test_unreachable_assistant_is_shown_and_recovers(page, site):
    port = free_port()  # nothing listens here yet
    open_chat(page, f"{site.url}/port-{port}.html")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(UNREACHABLE, timeout=15_000)
    # A message cannot be sent meanwhile, and is not lost.
    box = page.get_by_role("textbox", name="Your question")
    box.fill("are you there?")
    box.press("Enter")
    expect(box).to_have_value("are you there?")
    expect(user_messages(page)).to_have_count(0)
    screenshot(page, "unreachable")

    # The assistant comes back: the widget reconnects by itself.
    bot = StandInBot(port).start()
    try:
        expect(alert).to_be_hidden(timeout=20_000)
        expect(announcements(page)).to_contain_text("reachable again")
        box.press("Enter")
        wait_for_reply(page, 1, "You said: are you there?")
    finally:
        bot.stop()
    # ...and goes away again while connected.
    expect(alert).to_contain_text(UNREACHABLE, timeout=15_000)


def test_page_from_an_origin_not_allowed_cannot_connect(page, site, web_port):
    # Same files, but from http://localhost:PORT: not in cors_allowed_origins.
    open_chat(page, f"http://localhost:{web_port}/")
    expect(page.get_by_role("alert")).to_contain_text(UNREACHABLE, timeout=15_000)


def test_phone_sized_screen(browser, site):
    context = browser.new_context(
        viewport={"width": 375, "height": 667}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.goto(site.url)
        launcher = page.get_by_role("button", name=TITLE)
        box = launcher.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 667
        launcher.tap()

        # The chat takes the whole screen; the input and send button are on it.
        panel = page.get_by_role("region", name=TITLE).bounding_box()
        assert (round(panel["x"]), round(panel["y"]), round(panel["width"]), round(panel["height"])) == (0, 0, 375, 667)
        for control in (page.get_by_role("textbox", name="Your question"), page.get_by_role("button", name="Send")):
            area = control.bounding_box()
            assert area["x"] >= 0 and area["x"] + area["width"] <= 375, area
            assert area["y"] >= 0 and area["y"] + area["height"] <= 667, area

        ask(page, "what are the risks of a discogram?")
        answer = wait_for_reply(page, 1, "Infection at the injection site")
        assert answer.bounding_box()["width"] <= 375
        overflow = page.evaluate(
            "() => { const log = document.getElementById('spine-chat').shadowRoot"
            ".querySelector('.spc-messages'); return log.scrollWidth - log.clientWidth; }"
        )
        assert overflow <= 0, "messages scroll sideways"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
        screenshot(page, "phone")
    finally:
        context.close()


def test_a_socket_only_talks_in_a_session_the_server_issued(assistant):
    """channels/socketio.py: no choosing another user's sender id (e.g. a REST one)."""
    client = socketio.Client()
    confirmed, replies = [], []
    client.on("session_confirm", confirmed.append)
    client.on("bot_uttered", replies.append)
    client.connect(assistant.url, transports=["polling"])
    try:
        client.emit("session_request", {"session_id": "patient-1"})
        deadline = time.monotonic() + 10
        while not confirmed and time.monotonic() < deadline:
            time.sleep(0.1)
        assert confirmed and re.fullmatch(r"[0-9a-f]{32}", confirmed[0]), confirmed

        foreign = uuid.uuid4().hex
        client.emit("user_uttered", {"message": "what are the risks of a discogram?", "session_id": foreign})
        client.emit("user_uttered", {"message": "what are the risks of a discogram?", "session_id": confirmed[0]})
        deadline = time.monotonic() + 30
        while not replies and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        assert len(replies) == 1 and "Infection at the injection site" in replies[0]["text"]
        events = requests.get(
            f"{assistant.url}/conversations/{foreign}/tracker",
            params={"token": assistant.token}, timeout=30,
        ).json()["events"]
        assert not [event for event in events if event["event"] == "user"]
    finally:
        client.disconnect()
