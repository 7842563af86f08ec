"""spaCy's English lemma lookup table (spacy-lookups-data), without loading spaCy.

The action server uses it to lemmatise questions and documents for retrieval;
importing spaCy itself would pull in TensorFlow (4 s and 450 MB per process).
"""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import spacy_lookups_data

DATA = Path(spacy_lookups_data.__file__).parent / "data"
TABLE = DATA / "en_lemma_lookup.json.gz"
WORD_PROBABILITIES = DATA / "en_lexeme_prob.json.gz"
MIN_LOG_PROBABILITY = -15.5
# Words this common ("help", "work", "take", "back") say little about what a message is about.
COMMON_LOG_PROBABILITY = -9.0
WORD = re.compile(r"[a-z0-9]+")
# "word": log probability, in the JSON text of WORD_PROBABILITIES
TABLE_ENTRY = re.compile(rb'"((?:[^"\\]|\\.)*)":\s*(-?[0-9][0-9.eE+-]*)')


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    return json.loads(gzip.decompress(TABLE.read_bytes()))


@lru_cache(maxsize=1)
def _word_sets() -> tuple[frozenset[str], frozenset[str]]:
    """(real words, everyday words) from spaCy's word probabilities (log, from a large
    web corpus), read once. The table lists its million words from the most common
    down (tests/actions/test_lemmas.py checks it), so only its head is parsed: the
    70,000 real words, in 0.2 s instead of 1.2 s (each server's start)."""
    real, common = [], []
    for word, probability in _most_common_first():
        if probability <= MIN_LOG_PROBABILITY:
            break
        real.append(word)
        if probability > COMMON_LOG_PROBABILITY:
            common.append(word)
    return frozenset(real), frozenset(common)


def _most_common_first() -> Iterator[tuple[str, float]]:
    """(word, log probability) from WORD_PROBABILITIES, decompressed only as far as it is
    read: its head is 2 of its 30 MB (0.1 s less at each server's start)."""
    with gzip.open(WORD_PROBABILITIES) as table:
        text = b""
        while chunk := table.read(1 << 20):
            text += chunk
            parsed = 0
            for entry in TABLE_ENTRY.finditer(text):
                if entry.end() == len(text):  # its number may go on in the next chunk
                    break
                word = json.loads(b'"' + entry[1] + b'"') if b"\\" in entry[1] else entry[1].decode()
                yield word, float(entry[2])
                parsed = entry.end()
            text = text[parsed:]


def english_words() -> frozenset[str]:
    """Words common enough in English to be real words, not typos ("canidate" or
    "docter" are in spaCy's table too, but far rarer than real words)."""
    return _word_sets()[0]


def common_words() -> frozenset[str]:
    """Everyday words, whatever the topic."""
    return _word_sets()[1]


# Where the table's lemma is a different word: "does" is not the plural of "doe".
NOT_IN_TABLE = {"does": "do"}


def lemma(word: str) -> str:
    """Followed to a fixed point: the table maps "thinners" to "thinner" and "thinner" to "thin"."""
    if word in NOT_IN_TABLE:
        return NOT_IN_TABLE[word]
    table = _table()
    for _ in range(3):
        word, previous = table.get(word, word), word
        if word == previous:
            break
    return word


def lemmas(text: str) -> list[str]:
    """Lowercased word lemmas; apostrophes dropped ("can't" -> "cant")."""
    text = re.sub(r"['’‘`]", "", text.lower())
    return [lemma(w) for w in WORD.findall(text)]
