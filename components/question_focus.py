"""Rasa NLU component: the intent classifier reads the sentences that ask.

"I'm on Eliquis and I reacted to contrast dye once. I'm booked for my spine
procedure. What should I do to get ready?" is a preparation question; the story
before it (dye, booked) pulled the classifier elsewhere. When a message has a
story around its question (actions/questions.py), the featurizers get the tokens of
the asking sentences only. The red-flag detector and the actions still read the
whole message.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.questions import asking_spans

MIN_TOKENS = 3  # "why?" after a story says too little without it
MIN_STORY_TOKENS = 6  # less is part of the question ("the spacer? prep")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class QuestionFocus(GraphComponent):
    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> "QuestionFocus":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text, tokens = message.get(TEXT), message.get(TOKENS_NAMES[TEXT])
            spans = asking_spans(text) if text and tokens else None
            if spans:
                asked = [t for t in tokens if any(s <= t.start and t.end <= e for s, e in spans)]
                if len(asked) >= MIN_TOKENS and len(tokens) - len(asked) >= MIN_STORY_TOKENS:
                    message.set(TOKENS_NAMES[TEXT], asked)
        return messages
