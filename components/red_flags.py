"""Finds urgent symptoms in a patient's message (definitions: data/safety/red_flags.yml)."""

from __future__ import annotations

import re as stdlib_re
from dataclasses import dataclass
from pathlib import Path

import regex  # the `regex` module: like `re`, plus typo-tolerant {e<=1} groups
import yaml

from actions.lemmas import english_words
from components.typos import one_typo_variants

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "safety" / "red_flags.yml"
TIER_ORDER = ("emergency", "care_team")  # most severe first


@dataclass(frozen=True)
class RedFlag:
    key: str
    tier: str
    intent: str


def normalise(text: str) -> str:
    """Lowercase, "can't" -> "cant", punctuation to spaces, single spaces."""
    text = stdlib_re.sub(r"['’‘`´]", "", text.lower())
    return " ".join(stdlib_re.sub(r"[^\w.]+|\.(?!\d)", " ", text).split())


def _long_words(patterns: list[str]) -> frozenset[str]:
    """The long words the patterns use: the ones worth fixing a typo towards."""
    return frozenset(w for p in patterns for w in stdlib_re.findall(r"(?<![\\a-z])[a-z]{6,}", p))


def _compile(patterns: list[str]) -> list[regex.Pattern]:
    # Whole words only: "pus" must not fire inside "campus".
    return [regex.compile(rf"(?<!\w)(?:{p})(?!\w)", regex.IGNORECASE) for p in patterns]


class RedFlagMatcher:
    def __init__(self, path: Path | str = DEFAULT_PATH):
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        self.tier_intents: dict[str, str] = config["tiers"]
        self.flags = [
            (RedFlag(f["key"], f["tier"], self.tier_intents[f["tier"]]), _compile(f["patterns"]))
            for f in config["flags"]
        ]
        self.general_question = _compile(config["general_question"])
        self.report_cue = _compile(config["report_cue"])
        self.words = _long_words([p for f in config["flags"] for p in f["patterns"]])
        self.real_words = english_words() | self.words  # a real word is never "corrected"

    def _fix_typo(self, word: str) -> str:
        """"vomitting" -> "vomiting": the one pattern word one typo away, if only one is."""
        if word in self.real_words or not (word.isascii() and word.isalpha()):
            return word
        candidates = one_typo_variants(word) & self.words
        return next(iter(candidates)) if len(candidates) == 1 else word

    def match(self, text: str) -> RedFlag | None:
        """The most severe red flag the message reports, or None."""
        text = " ".join(self._fix_typo(word) for word in normalise(text).split())
        found = [flag for flag, patterns in self.flags if any(p.search(text) for p in patterns)]
        if not found:
            return None
        is_general = any(p.search(text) for p in self.general_question)
        if is_general and not any(p.search(text) for p in self.report_cue):
            return None
        return min(found, key=lambda flag: TIER_ORDER.index(flag.tier))
