"""Spelling variants, for matching the words patients misspell."""

import string


def one_typo_variants(word: str) -> set[str]:
    """The word and every spelling one deletion, insertion, swap or substitution away."""
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletions = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    substitutions = {a + c + b[1:] for a, b in splits if b for c in letters}
    insertions = {a + c + b for a, b in splits for c in letters}
    return {word} | deletions | swaps | substitutions | insertions
