"""Rasa NLU component: fixes one-letter typos before the rest of the pipeline.

Patients type "wat r the riks", "docter", "neddle". A word that is neither in the
training data's vocabulary nor a real English word (spaCy's lemma lookup table)
is replaced by the one vocabulary word one edit away, if there is exactly one
(or one clearly more frequent). Real words are never touched, nor their
inflections ("dozing", whose lemma "doze" is a real word) or contractions written
without the apostrophe. The vocabulary is learnt from the training data and stored
with the model.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.lemmas import english_words, lemma
from components.typos import one_typo_variants

# A word with its apostrophes: "aren't" is not "aren" to be corrected to "are".
WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
MIN_LENGTH = 4  # shorter words have too many neighbours to guess from
VOCABULARY_FILE = "vocabulary.json"
AS_WRITTEN = "text_as_written"  # the message before correction
# Written without the apostrophe, and not in the word list (it has "are" and "n't"):
# "arent" is not a typo of "agent".
CONTRACTIONS = frozenset(
    "arent isnt dont doesnt didnt cant wont wouldnt couldnt shouldnt havent hasnt hadnt wasnt werent "
    "youre theyre thats whats shes hes theres heres wheres youve theyve weve youll theyll itll".split())


def correct(text: str, vocabulary: Counter, known: frozenset) -> str:
    def fix(match: re.Match) -> str:
        word = match.group(0)
        lower = word.lower()
        if (len(lower) < MIN_LENGTH or lower in vocabulary or lower in known or not lower.isalpha()
                or lower in CONTRACTIONS or lemma(lower) in known):
            return word
        # A vocabulary word seen once may itself be a typo of the training data.
        candidates = sorted(
            (vocabulary[v], v) for v in one_typo_variants(lower)
            if v in vocabulary and (v in known or vocabulary[v] > 1)
        )
        if not candidates:
            return word
        best = candidates[-1][1]
        rivals = [v for count, v in candidates[:-1] if lemma(v) != lemma(best) and 2 * count > candidates[-1][0]]
        # Two plausible different words ("riks": "risk" and "risks" are one): leave it.
        return word if rivals else best

    return WORD.sub(fix, text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class SpellingNormaliser(GraphComponent):
    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary: Optional[Counter] = None):
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary or Counter()

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SpellingNormaliser":
        return cls(model_storage, resource)

    @classmethod
    def load(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext, **kwargs: Any,
    ) -> "SpellingNormaliser":
        with model_storage.read_from(resource) as directory:
            vocabulary = Counter(json.loads((directory / VOCABULARY_FILE).read_text()))
        return cls(model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        self.vocabulary = Counter(
            w.lower() for message in training_data.training_examples
            for w in WORD.findall(message.get(TEXT) or "")
        )
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(self.vocabulary))
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # the training data is the vocabulary: nothing to fix

    def process(self, messages: List[Message]) -> List[Message]:
        known = english_words()
        for message in messages:
            text = message.get(TEXT)
            if text:
                message.set(AS_WRITTEN, text)  # the red-flag detector reads the patient's own words too
                message.set(TEXT, correct(text, self.vocabulary, known))
        return messages
