"""How likely a message reports a symptom now, and how urgent it is, learned from examples.

The red-flag patterns (data/safety/red_flags.yml) read a symptom in its context,
but each new writer finds wordings they lack. This second net is two logistic
regressions on word and character n-grams, trained on urgent reports and benign
messages that use symptom words (data/safety/examples/): report or not, and among
reports, emergency or the care team's. RedFlagDetector trains them and asks them only
about a message that names a symptom the patterns did not read as a report: the net
only ever adds an escalation.

Each regression is stored as its arrays and vocabularies, never pickled.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from actions import yaml_files

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "safety" / "examples"
# Words and word runs say who and when ("my mum", "what if", "since yesterday"); character
# n-grams carry misspelt and lay words.
FEATURES = ({"ngram_range": (1, 3)}, {"analyzer": "char_wb", "ngram_range": (2, 5)})


def examples_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.yml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def examples(folder: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """The reports (text, tier) and the benign messages of every set under `folder`."""
    reports, benign = [], []
    for urgent in sorted(folder.glob("*/urgent_reports.yml")):
        reports += [(r["text"], r["tier"]) for r in yaml_files.safe_load(urgent.read_text())["reports"]]
        benign += [m["text"] for m in
                   yaml_files.safe_load((urgent.parent / "benign_symptom_words.yml").read_text())["messages"]]
    return reports, benign


def vectorizers(vocabularies: list[list[str]] | None = None) -> list[TfidfVectorizer]:
    return [TfidfVectorizer(sublinear_tf=True, vocabulary=vocabularies[i] if vocabularies else None, **features)
            for i, features in enumerate(FEATURES)]


class TextRegression:
    """A yes-or-no logistic regression on a text's n-grams, fitted or restored."""

    def __init__(self, vectorizers_: list[TfidfVectorizer], regression: LogisticRegression):
        self.vectorizers, self.regression = vectorizers_, regression

    @classmethod
    def fit(cls, texts: list[str], labels: list[bool], c: float) -> "TextRegression":
        fitted = [v.fit(texts) for v in vectorizers()]
        model = cls(fitted, LogisticRegression(C=c, max_iter=2000, class_weight="balanced"))
        model.regression.fit(model.features(texts), [int(label) for label in labels])
        return model

    def features(self, texts: list[str]):
        return hstack([v.transform(texts) for v in self.vectorizers]).tocsr()

    def probability(self, text: str) -> float:
        return float(self.regression.predict_proba(self.features([text]))[0, 1])

    def save(self, folder: Path, name: str) -> None:
        (folder / f"{name}.json").write_text(json.dumps([v.get_feature_names_out().tolist() for v in self.vectorizers]))
        np.savez(folder / f"{name}.npz", coef=self.regression.coef_, intercept=self.regression.intercept_,
                 **{f"idf_{i}": v.idf_ for i, v in enumerate(self.vectorizers)})

    @classmethod
    def restore(cls, folder: Path, name: str) -> "TextRegression":
        restored = vectorizers(json.loads((folder / f"{name}.json").read_text()))
        regression = LogisticRegression()
        with np.load(folder / f"{name}.npz", allow_pickle=False) as arrays:
            for i, vectorizer in enumerate(restored):
                vectorizer.idf_ = arrays[f"idf_{i}"]
            regression.coef_, regression.intercept_ = arrays["coef"], arrays["intercept"]
        regression.classes_ = np.array([0, 1])
        return cls(restored, regression)
