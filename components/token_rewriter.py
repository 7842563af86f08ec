"""A tokenizer step that rewrites a message's tokens, the same way in training and at run time."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


class TokenRewriter(GraphComponent):
    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TokenRewriter":
        return cls()

    def rewrite(self, message: Message, tokens: List[Token]) -> Optional[List[Token]]:
        """The tokens the featurizers should see, or None to keep them."""
        raise NotImplementedError

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT])
            rewritten = self.rewrite(message, tokens) if tokens else None
            if rewritten is not None:
                message.set(TOKENS_NAMES[TEXT], rewritten)
        return messages
