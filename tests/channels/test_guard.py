"""The guard's pieces on their own; tests/test_never_silent.py, test_bad_input.py and
test_fuzz.py check it through the real servers on every channel."""

import pytest

from channels import guard
from channels.guard import RateLimiter, Settings, clean


@pytest.mark.parametrize("text, cleaned", [
    ("  what are the risks?\n", "what are the risks?"),
    ("risks\x00 of\x1b[31m a discogram", "risks  of [31m a discogram"),
    ("line one\nline two\ttab", "line one\nline two\ttab"),
    ("\ud800 lone surrogate", "? lone surrogate"),
    ("ｒｉｓｋｓ", "risks"),  # full-width letters (NFKC)
    ("ما هي المخاطر؟ 🙂", "ما هي المخاطر؟ 🙂"),
    (None, ""),
    (42, ""),
])
def test_clean(text, cleaned):
    assert clean(text) == cleaned


def test_rate_limiter_slides_its_window(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(guard.time, "monotonic", lambda: now[0])
    limiter = RateLimiter(limit=3, window=60)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # keys are counted apart
    now[0] += 59.9
    assert not limiter.allow("a")
    now[0] += 0.2  # the first three are out of the window
    assert limiter.allow("a")


def test_rate_limiter_zero_means_no_limit_and_memory_is_bounded():
    assert all(RateLimiter(limit=0, window=60).allow("a") for _ in range(1000))
    limiter = RateLimiter(limit=1, window=60, max_keys=10)
    for n in range(100):
        limiter.allow(str(n))
    assert len(limiter._events) == 10


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "500")
    monkeypatch.setenv("REPLY_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("RATE_LIMIT_PER_SENDER", "")
    settings = Settings.from_environment()
    assert (settings.max_message_chars, settings.reply_timeout) == (500, 1.5)
    assert settings.messages_per_sender == Settings().messages_per_sender
    monkeypatch.setenv("RATE_LIMIT_PER_ADDRESS", "lots")
    with pytest.raises(ValueError, match="RATE_LIMIT_PER_ADDRESS must be a number"):
        Settings.from_environment()
