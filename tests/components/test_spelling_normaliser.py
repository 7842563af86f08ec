from collections import Counter

import pytest

from actions.lemmas import english_words
from components.spelling_normaliser import correct

VOCABULARY = Counter({"doctor": 5, "risks": 4, "needle": 3, "agent": 2, "doing": 2, "toes": 2})


@pytest.mark.parametrize("typo, fixed", [("docter", "doctor"), ("neddle", "needle")])
def test_a_typo_becomes_the_training_datas_word(typo, fixed):
    assert correct(f"who is the {typo}", VOCABULARY, english_words()) == f"who is the {fixed}"


@pytest.mark.parametrize("word", ["arent", "dozing", "doesnt"])
def test_real_words_their_inflections_and_contractions_are_kept(word):
    # "arent" is one edit from "agent", "dozing" from "doing": neither is a typo.
    assert correct(f"the pills {word} much", VOCABULARY, english_words()) == f"the pills {word} much"
