"""Rasa NLU component: the intent classifier reads the sentences that ask.

"I'm on Eliquis and I reacted to contrast dye once. I'm booked for my spine
procedure. What should I do to get ready?" is a preparation question; the story
before it (dye, booked) pulled the classifier elsewhere. When a message has a
story around its question (actions/questions.py), the featurizers get the tokens of
the asking sentences only. The red-flag detector and the actions still read the
whole message.
"""

from __future__ import annotations

from typing import List, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.questions import asking_spans
from components.token_rewriter import TokenRewriter

MIN_TOKENS = 3  # "why?" after a story says too little without it
MIN_STORY_TOKENS = 6  # less is part of the question ("the spacer? prep")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class QuestionFocus(TokenRewriter):
    def rewrite(self, message: Message, tokens: List[Token]) -> Optional[List[Token]]:
        spans = asking_spans(message.get(TEXT) or "")
        if not spans:
            return None
        asked = [t for t in tokens if any(s <= t.start and t.end <= e for s, e in spans)]
        if len(asked) >= MIN_TOKENS and len(tokens) - len(asked) >= MIN_STORY_TOKENS:
            return asked
        return None
