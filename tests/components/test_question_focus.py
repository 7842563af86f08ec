"""The intent classifier reads a long message's question, not the story before it."""

import re

from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.question_focus import QuestionFocus


def focused(text):
    message = Message({TEXT: text})
    message.set(TOKENS_NAMES[TEXT], [Token(m.group(), m.start()) for m in re.finditer(r"\w+", text)])
    QuestionFocus().process([message])
    return " ".join(t.text for t in message.get(TOKENS_NAMES[TEXT]))


def test_the_classifier_reads_the_question_after_a_story():
    text = ("I'm on Eliquis and I had a reaction to contrast dye during a CT scan. "
            "I'm booked for my spine procedure. What should I do to get ready?")
    assert focused(text) == "What should I do to get ready"


def test_short_messages_and_short_questions_are_read_whole():
    assert focused("the spacer? prep") == "the spacer prep"  # no story to leave out
    assert focused("My mom had her discogram yesterday and she is very sore. Why?") == (
        "My mom had her discogram yesterday and she is very sore Why")  # "why?" alone says too little
    assert focused("what are the risks of a discogram?") == "what are the risks of a discogram"
