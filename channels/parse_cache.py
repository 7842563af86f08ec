"""What the NLU made of a text, kept for the next message with the same text.

Patients send the same few texts again and again ("hi", "thanks", "yes", the
common questions); each costs the whole NLU pipeline (DIET alone is a quarter
of the Rasa server's time). Every component of ours and Rasa's reads only the
message's text (none reads the conversation or the metadata), so the same text
gets the same parse: the guard looks it up here before the turn, and hands it
to Rasa as the message's parse_data (which Rasa then uses instead of parsing).
Each hit is a copy: Rasa and the actions may change what they are given.
"""

from __future__ import annotations

import copy
import os
from collections import OrderedDict
from typing import Any, Dict, Optional

# A few MB; the least recently used texts are forgotten. PARSE_CACHE_TEXTS=0: no cache
# (`make bench`'s texts repeat more than patients' do: measure with and without).
MAX_TEXTS = int(os.environ.get("PARSE_CACHE_TEXTS") or 5000)


class ParseCache:
    def __init__(self, max_texts: int = MAX_TEXTS) -> None:
        self.max_texts = max_texts
        self._parses: OrderedDict[str, Dict[str, Any]] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, text: str) -> Optional[Dict[str, Any]]:
        parse = self._parses.get(text) if self.max_texts > 0 else None
        if parse is None:
            self.misses += 1
            return None
        self._parses.move_to_end(text)
        self.hits += 1
        return copy.deepcopy(parse)

    def put(self, text: str, parse: Dict[str, Any]) -> None:
        if self.max_texts <= 0:
            return
        self._parses[text] = copy.deepcopy(parse)
        self._parses.move_to_end(text)
        if len(self._parses) > self.max_texts:
            self._parses.popitem(last=False)
