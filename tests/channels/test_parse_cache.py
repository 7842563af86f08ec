"""Identical texts parsed once (channels/parse_cache.py), with the same replies and the
same stored parse as the first time, through the real servers."""

import uuid

from channels.parse_cache import ParseCache
from scripts.local_servers import GUARD_OFF, running_assistant

TEXTS = ["hi", "what are the risks of a discogram?", "/tell_me_more", "thanks"]


def user_parses(tracker: dict) -> list[dict]:
    return [{k: e["parse_data"][k] for k in ("intent", "entities", "intent_ranking") if k in e["parse_data"]}
            for e in tracker["events"] if e["event"] == "user"]


def test_the_same_texts_get_the_same_replies_and_parses(tmp_path):
    with running_assistant(tmp_path, guard=GUARD_OFF) as assistant:
        patients = [f"cache-{uuid.uuid4().hex[:8]}" for _ in range(3)]  # the first parses, the others hit
        replies = [[assistant.send(p, text) for text in TEXTS] for p in patients]
        for other in replies[1:]:
            assert [[m.get("text") for m in turn] for turn in other] == \
                [[m.get("text") for m in turn] for turn in replies[0]]
        parses = [user_parses(assistant.tracker(p)) for p in patients]
        assert parses[0] and parses[1] == parses[0] and parses[2] == parses[0]
        assert len(parses[0]) == len(TEXTS)


def test_a_hit_is_a_copy_and_the_oldest_text_goes():
    cache = ParseCache(max_texts=2)
    cache.put("a", {"intent": {"name": "greet"}})
    hit = cache.get("a")
    hit["intent"]["name"] = "changed"
    assert cache.get("a") == {"intent": {"name": "greet"}}
    cache.put("b", {})
    cache.put("c", {})
    assert cache.get("a") is None and cache.get("c") == {}


def test_no_cache_when_it_is_off():
    cache = ParseCache(max_texts=0)
    cache.put("a", {})
    assert cache.get("a") is None
