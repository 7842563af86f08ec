"""The sentences of a message that ask, without the story before them."""

import pytest

from actions.questions import question_part


@pytest.mark.parametrize("text, asked", [
    ("I've had sciatica for a year and PT didn't help. Am I a candidate?", "Am I a candidate?"),
    ("my mom is nervous about her discogram, what does she need to do before?",
     "what does she need to do before?"),
    ("I'm scared. Is that something that happens? Thanks.", "Is that something that happens?"),
])
def test_the_story_around_a_question_is_left_out(text, asked):
    assert question_part(text) == asked


@pytest.mark.parametrize("text", [
    "what are the risks of a discogram?",
    "What are the risks? And how long does it take?",  # every sentence asks
    "tell me about the racz procedure",
    "I had a discogram last week",  # no sentence asks
])
def test_a_message_that_is_all_question_is_kept_whole(text):
    assert question_part(text) == text
