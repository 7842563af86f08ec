"""The part of a message that asks.

"I've done physical therapy for a year and my MRI shows a bulging disc. Am I a
candidate?" asks who the procedure is for; the story before it says why. The
retriever (actions/retrieval.py) and the intent classifier (components/question_focus.py)
read the asking sentences only, when there is a story around them.
"""

from __future__ import annotations

import re

# A sentence that asks ends with "?" or starts like a question.
QUESTION_OPENERS = {
    "what", "whats", "what's", "how", "hows", "how's", "when", "where", "who", "whom", "why", "which",
    "will", "would", "can", "could", "do", "does", "did", "is", "are", "am", "should", "may", "might",
    "any", "anything", "has", "have", "was", "were", "tell", "please", "explain",
}
# Sentences, and clauses that start a question after a comma ("..., what do I do?").
BREAK = re.compile(r"(?<=[.!?])\s+|\n+|,\s+(?=(?:" + "|".join(map(re.escape, QUESTION_OPENERS)) + r")\b)", re.I)


def asking_spans(text: str) -> list[tuple[int, int]] | None:
    """(start, end) of each sentence that asks; None when the message is all question
    (one sentence, or no sentence that asks)."""
    starts = [0] + [m.end() for m in BREAK.finditer(text)]
    ends = [m.start() for m in BREAK.finditer(text)] + [len(text)]
    spans = [(s, e) for s, e in zip(starts, ends) if text[s:e].strip()]
    asking = [(s, e) for s, e in spans if _asks(text[s:e].strip())]
    return asking if asking and len(asking) < len(spans) else None


def question_part(text: str) -> str:
    spans = asking_spans(text)
    return text if spans is None else " ".join(text[s:e].strip() for s, e in spans)


def _asks(sentence: str) -> bool:
    words = sentence.split(maxsplit=1)
    return sentence.endswith("?") or bool(words) and words[0].casefold() in QUESTION_OPENERS
