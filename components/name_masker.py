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
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.token_rewriter import TokenRewriter

PLACEHOLDER = "procedurename"
# Built from the knowledge base by `make train` (config.yml: SpacyNLP's `model`).
SPACY_PIPELINE = Path(__file__).resolve().parent.parent / "models" / "spacy_pipeline"


def pipeline_fingerprint(path: Optional[Path] = None) -> Optional[str]:
    """A hash of the spaCy pipeline's files (None if it is not built)."""
    path = path or SPACY_PIPELINE
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else []
    if not files:
        return None
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(path)).encode() + b"\0" + f.read_bytes())
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
        # the classifier trained on the old names from its cache.
        return pipeline_fingerprint()

    def rewrite(self, message: Message, tokens: List[Token]) -> Optional[List[Token]]:
        doc = message.get(SPACY_DOCS[TEXT])
        if doc is None or not doc.ents:
            return None
        return masked(tokens, [(ent.start_char, ent.end_char) for ent in doc.ents])
