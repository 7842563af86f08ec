"""The trained model on held-out questions it never saw in training (tests/heldout/nlu.yml)."""

import re
from collections import Counter
from pathlib import Path

import yaml

HELDOUT = Path(__file__).parent / "heldout" / "nlu.yml"
ANNOTATION = re.compile(r'\[([^\]]+)\]\{"entity": "procedure", "value": "([^"]+)"\}')
MIN_INTENT_ACCURACY = 0.93


def heldout_examples():
    for block in yaml.safe_load(HELDOUT.read_text())["nlu"]:
        for line in block["examples"].splitlines():
            example = line.strip().removeprefix("- ")
            if example:
                values = [value for _, value in ANNOTATION.findall(example)]
                yield block["intent"], ANNOTATION.sub(r"\1", example), values


def test_heldout_intents_and_procedures(assistant):
    misses, entity_misses, total = Counter(), [], 0
    for intent, text, codes in heldout_examples():
        total += 1
        parsed = assistant.parse(text)
        if parsed["intent"]["name"] != intent:
            misses[(intent, parsed["intent"]["name"])] += 1
        found = [e["value"] for e in parsed["entities"] if e["entity"] == "procedure"]
        if found != codes:
            entity_misses.append((text, codes, found))
    accuracy = 1 - sum(misses.values()) / total
    print(f"\nheld-out: {total} examples, intent accuracy {accuracy:.3f}, "
          f"procedure entities right in {total - len(entity_misses)}/{total}")
    for (expected, predicted), count in misses.most_common():
        print(f"  {expected} -> {predicted}: {count}")
    assert accuracy >= MIN_INTENT_ACCURACY
    assert entity_misses == []
