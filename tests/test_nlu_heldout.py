"""The trained model on held-out questions it never saw in training (tests/heldout/nlu.yml)."""

from collections import Counter

from bench.nlu import HELDOUT, examples

MIN_INTENT_ACCURACY = 0.93


def test_heldout_intents_and_procedures(assistant):
    misses, entity_misses, total = Counter(), [], 0
    for intent, text, codes in examples(HELDOUT / "nlu.yml"):
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
