"""Rasa NLU component: the intent classifier never sees a procedure's or topic's name.

"What are the risks of a discogram?" and "what are the risks of an epidural
steroid injection?" reach the featurizers as the same words: each name the
spaCy pipeline's entity ruler recognises (a procedure, or a topic of
other_topics.yml) becomes one placeholder token, in training and at run time.
So no name is learnt as a reason for an intent (say, out of scope), and a
procedure a clinic adds is understood from its first `make train` with no new
training examples. Whether a named topic is covered is decided by the knowledge
base (actions/actions.py), not by the classifier.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import spacy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from components.token_rewriter import TokenRewriter

PLACEHOLDER = "procedurename"
ROOT = Path(__file__).resolve().parent.parent
# Built from the knowledge base by `make train` (config.yml: the spaCy component's `model`).
SPACY_PIPELINE = ROOT / "models" / "spacy_pipeline"
NLU_DATA = ROOT / "data" / "nlu"  # what `make train` trains the classifier on


def files_fingerprint(paths: List[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for f in paths:
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def pipeline_fingerprint(path: Optional[Path] = None) -> Optional[str]:
    """A hash of the spaCy pipeline's files (None if it is not built)."""
    path = path or SPACY_PIPELINE
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else []
    return files_fingerprint(files, path) if files else None


_masking_fingerprints: Dict[tuple, Optional[str]] = {}


def masking_fingerprint(pipeline: Optional[Path] = None, data: Optional[Path] = None) -> Optional[str]:
    """A hash of what the spaCy pipeline makes of the training texts: their tokens, lemmas
    and the names it masks (None if it is not built).

    Adding a procedure rebuilds the pipeline, but changes none of this when the training
    texts do not name it, or name it only as a topic of other_topics.yml (masked the
    same): the classifier trained before is then restored from Rasa's cache.
    """
    pipeline, data = pipeline or SPACY_PIPELINE, data or NLU_DATA
    key = (pipeline_fingerprint(pipeline), files_fingerprint(sorted(data.rglob("*.yml")), data))
    if key not in _masking_fingerprints:  # Rasa asks several times a training
        _masking_fingerprints[key] = key[0] and _read_texts(spacy.load(pipeline), data)
    return _masking_fingerprints[key]


def _read_texts(nlp: spacy.language.Language, data: Path) -> str:
    texts = sorted({m.get(TEXT) for m in load_data(str(data)).training_examples if m.get(TEXT)})
    digest = hashlib.sha256()
    for doc in nlp.pipe(texts, batch_size=256):
        read = [[t.idx, t.text, t.lemma_] for t in doc] + [[e.start_char, e.end_char] for e in doc.ents]
        digest.update(json.dumps(read).encode())
    return digest.hexdigest()


def masked(tokens: List[Token], names: List[tuple[int, int]]) -> List[Token]:
    """`tokens` with each (start, end) character span of a name as one placeholder token."""
    result: List[Token] = []
    for start, end in names:
        result += [t for t in tokens if t.end <= start and (not result or t.start >= result[-1].end)]
        result.append(Token(PLACEHOLDER, start, end, lemma=PLACEHOLDER))
    return result + [t for t in tokens if not result or t.start >= result[-1].end]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class NameMasker(TokenRewriter):
    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        # Rasa fingerprints SpacyNLP by its path alone, and the pipeline is rebuilt at the
        # same path when a procedure is added: without this, `rasa train` would restore
        # the classifier trained on the old names from its cache even where they changed
        # what it reads.
        return masking_fingerprint()

    def rewrite(self, message: Message, tokens: List[Token]) -> Optional[List[Token]]:
        doc = message.get(SPACY_DOCS[TEXT])
        if doc is None or not doc.ents:
            return None
        return masked(tokens, [(ent.start_char, ent.end_char) for ent in doc.ents])
