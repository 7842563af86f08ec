"""The word lists read from the head of spaCy's probability table are the whole table's."""

import gzip
import json

from actions import lemmas


def test_real_and_everyday_words_are_those_of_the_whole_table():
    probabilities = json.loads(gzip.decompress(lemmas.WORD_PROBABILITIES.read_bytes()))
    assert lemmas.english_words() == {w for w, p in probabilities.items() if p > lemmas.MIN_LOG_PROBABILITY}
    assert lemmas.common_words() == {w for w, p in probabilities.items() if p > lemmas.COMMON_LOG_PROBABILITY}
    assert {"canidate", "docter"} <= set(probabilities) and not {"canidate", "docter"} & lemmas.english_words()
    assert {"doctor", "candidate", "café"} <= lemmas.english_words()
