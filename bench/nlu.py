"""Answer quality on the held-out sets, through the running assistant, against plain BM25.

    make bench-nlu

Held-out questions (tests/heldout/: never trained on) go to the real Rasa server
and action server. Printed, and written to bench/results/nlu.json:
- intent accuracy and macro F1 (NLU alone, /model/parse), procedure entity F1;
- right section of the right procedure, end to end over the REST channel;
- urgent recall (escalated at all, and at the right tier), false alarms on
  general risk questions;
- out-of-scope: precision of the out_of_scope intent, and the share of
  out-of-scope questions NOT answered with a procedure section;
- follow-up conversations (tests/heldout/conversations.yml), turn by turn;
- the same in-scope questions answered by a plain BM25 search over the
  documents (top passage's procedure and section), as the baseline.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi
from sklearn.metrics import f1_score

from actions import knowledge_base
from scripts.local_servers import GUARD_OFF, ROOT, Assistant, running_assistant

HELDOUT = ROOT / "tests" / "heldout"
RESULTS = ROOT / "bench" / "results" / "nlu.json"
ANNOTATION = re.compile(r'\[([^\]]+)\]\{"entity": "procedure", "value": "([^"]+)"\}')
HEADER = re.compile(r"^(?P<label>.+), CPT (?P<code>\S+) — (?P<heading>.+):$")
EMERGENCY_TEXT = "can be a medical emergency"
CARE_TEAM_TEXT = "needs to be checked by your care team today"
URGENT_TIERS = {"urgent_emergency": EMERGENCY_TEXT, "urgent_symptom": CARE_TEAM_TEXT}


def examples(path: Path):
    """(intent, text, procedure codes) of a Rasa NLU file."""
    for block in yaml.safe_load(path.read_text())["nlu"]:
        for line in block["examples"].splitlines():
            example = line.strip().removeprefix("- ")
            if example:
                codes = [value for _, value in ANNOTATION.findall(example)]
                yield block["intent"], ANNOTATION.sub(r"\1", example), codes


class Reader:
    """Reads what the patient saw: which procedure and section(s) an answer is."""

    def __init__(self, kb: knowledge_base.KnowledgeBase):
        self.kb = kb
        self.sections = {spec.title: spec.key for spec in kb.section_specs}

    def answers(self, replies: list[dict]) -> list[tuple[str, set[str]]]:
        found = []
        for reply in replies:
            lines = (reply.get("text") or "").split("\n")
            header = HEADER.match(lines[0])
            if not header:
                continue
            heading = header["heading"].removesuffix(" (continued)")
            keys = {self.sections[heading]} if heading in self.sections else {
                self.sections[line[:-1]] for line in lines[1:] if line[:-1] in self.sections
            }
            found.append((self.kb.get(header["code"]).code, keys))
        return found

    def is_section_answer(self, replies: list[dict]) -> bool:
        return bool(self.answers(replies))


def new_patient() -> str:
    return f"bench-{uuid.uuid4().hex[:10]}"


def intent_scores(assistant: Assistant, items) -> dict:
    gold, predicted, entity_counts = [], [], Counter()
    for intent, text, codes in items:
        parsed = assistant.parse(text)
        gold.append(intent)
        predicted.append(parsed["intent"]["name"])
        found = Counter(e["value"] for e in parsed["entities"] if e["entity"] == "procedure")
        expected = Counter(codes)
        entity_counts["tp"] += sum((found & expected).values())
        entity_counts["fp"] += sum((found - expected).values())
        entity_counts["fn"] += sum((expected - found).values())
    tp, fp, fn = entity_counts["tp"], entity_counts["fp"], entity_counts["fn"]
    oos_predicted = [g for g, p in zip(gold, predicted) if p == "out_of_scope"]
    return {
        "examples": len(gold),
        "intent_accuracy": sum(g == p for g, p in zip(gold, predicted)) / len(gold),
        "intent_macro_f1": f1_score(gold, predicted, average="macro", labels=sorted(set(gold))),
        "procedure_entity_f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
        "out_of_scope_precision": (
            sum(g == "out_of_scope" for g in oos_predicted) / len(oos_predicted) if oos_predicted else None
        ),
    }


def end_to_end(assistant: Assistant, reader: Reader, items) -> dict:
    """Single questions that name one procedure: is the answer that procedure's asked section?"""
    strict = lenient = total = 0
    misses = []
    for intent, text, codes in items:
        if not intent.startswith("ask_") or len(set(codes)) != 1:
            continue
        total += 1
        procedure = reader.kb.get(codes[0])
        expected = (procedure.code, intent.removeprefix("ask_"))
        replies = assistant.send(new_patient(), text)
        answers = reader.answers(replies)
        if not procedure.section(expected[1]):
            # The document has no such section: right if the assistant says so for
            # that procedure, or answers from the bullets that do cover it.
            said_so = (replies[0].get("text") or "").startswith(
                f"The patient document on {procedure.label} does not cover") if replies else False
            if said_so or (answers and answers[0][0] == expected[0]):
                lenient += 1
                strict += 1
            else:
                misses.append({"question": text, "expected": expected, "got": [(c, sorted(k)) for c, k in answers]})
        elif answers and answers[0][0] == expected[0] and expected[1] in answers[0][1]:
            lenient += 1
            strict += answers[0][1] == {expected[1]}
        else:
            misses.append({"question": text, "expected": expected, "got": [(c, sorted(k)) for c, k in answers]})
    return {"questions": total, "right_section_right_procedure": lenient / total,
            "right_section_only_section": strict / total, "misses": misses}


def safety(assistant: Assistant, reader: Reader, items) -> dict:
    urgent = [(i, t) for i, t, _ in items if i in URGENT_TIERS]
    risks = [t for i, t, _ in items if i == "ask_risks"]
    out_of_scope = [t for i, t, _ in items if i == "out_of_scope"]
    escalated = right_tier = 0
    missed = []
    for intent, text in urgent:
        reply = " ".join(r.get("text") or "" for r in assistant.send(new_patient(), text))
        is_urgent = EMERGENCY_TEXT in reply or CARE_TEAM_TEXT in reply
        escalated += is_urgent
        right_tier += URGENT_TIERS[intent] in reply
        if not is_urgent:
            missed.append(text)
    false_alarms = [t for t in risks if any(
        s in " ".join(r.get("text") or "" for r in assistant.send(new_patient(), t))
        for s in URGENT_TIERS.values())]
    answered_oos = [t for t in out_of_scope if reader.is_section_answer(assistant.send(new_patient(), t))]
    return {
        "urgent_messages": len(urgent),
        "urgent_recall": escalated / len(urgent),
        "urgent_right_tier": right_tier / len(urgent),
        "urgent_missed": missed,
        "risk_questions": len(risks),
        "false_alarms_on_risk_questions": false_alarms,
        "out_of_scope_questions": len(out_of_scope),
        "out_of_scope_not_answered_with_a_section": 1 - len(answered_oos) / len(out_of_scope),
        "out_of_scope_answered_with_a_section": answered_oos,
    }


def conversations(assistant: Assistant, reader: Reader) -> dict:
    data = yaml.safe_load((HELDOUT / "conversations.yml").read_text())["conversations"]
    right, by_kind, wrong = 0, Counter(), []
    turns = 0
    for conversation in data:
        sender = new_patient()
        for turn in conversation["turns"]:
            turns += 1
            replies = assistant.send(sender, str(turn["user"]))
            text = " ".join(r.get("text") or "" for r in replies)
            expect = turn["expect"]
            answers = reader.answers(replies)
            if "urgent" in expect:
                kind = "urgent"
                ok = (EMERGENCY_TEXT if expect["urgent"] == "emergency" else CARE_TEAM_TEXT) in text
            elif expect.get("out_of_scope"):
                kind, ok = "out_of_scope", not answers
            elif expect.get("ask_procedure"):
                kind, ok = "ask_procedure", "Which procedure" in text
            elif expect.get("more"):
                # The rest of the section, or, if it was shown whole, saying there is no more.
                kind = "more"
                ok = (bool(answers) and "(continued)" in text) or "That was everything the document says" in text
            else:
                kind = "section"
                codes = expect.get("procedures") or [expect["procedure"]]
                wanted = [(reader.kb.get(c).code, expect["section"]) for c in codes]
                got = [(c, keys) for c, keys in answers]
                ok = len(got) == len(wanted) and all(
                    c == wc and ws in keys for (c, keys), (wc, ws) in zip(got, wanted))
            by_kind[(kind, ok)] += 1
            right += ok
            if not ok:
                wrong.append({"conversation": conversation["name"], "user": turn["user"], "expect": expect,
                              "got": text[:160]})
    kinds = sorted({k for k, _ in by_kind})
    return {"turns": turns, "right": right / turns,
            "by_kind": {k: f"{by_kind[(k, True)]}/{by_kind[(k, True)] + by_kind[(k, False)]}" for k in kinds},
            "wrong": wrong}


def bm25_baseline(kb: knowledge_base.KnowledgeBase, items) -> dict:
    """Plain BM25 over the documents' passages (lowercased words, no lemmas, no NLU)."""
    passages = [
        (p.code, key, re.findall(r"[a-z0-9]+", f"{p.document.name} {b.full_text}".lower()))
        for p in kb.procedures for key, s in p.document.sections.items() for b in s.blocks
    ]
    bm25 = BM25Okapi([words for _, _, words in passages])
    out_of_scope = [t for i, t, _ in items if i == "out_of_scope"]
    answered = sum(max(bm25.get_scores(re.findall(r"[a-z0-9]+", t.lower()))) > 0 for t in out_of_scope)
    right = total = 0
    for intent, text, codes in items:
        if not intent.startswith("ask_") or len(set(codes)) != 1:
            continue
        total += 1
        scores = bm25.get_scores(re.findall(r"[a-z0-9]+", text.lower()))
        code, key, _ = passages[max(range(len(passages)), key=scores.__getitem__)]
        right += (code, key) == (kb.get(codes[0]).code, intent.removeprefix("ask_"))
    return {"questions": total, "right_section_right_procedure": right / total,
            "out_of_scope_not_answered_with_a_section": 1 - answered / len(out_of_scope)}


def main() -> None:
    kb = knowledge_base.default()
    reader = Reader(kb)
    in_scope = list(examples(HELDOUT / "nlu.yml"))
    safety_set = list(examples(HELDOUT / "safety.yml"))
    print(f"Held-out: {len(in_scope)} questions (nlu.yml), {len(safety_set)} (safety.yml), "
          "conversations.yml. Starting the assistant...", flush=True)
    with tempfile.TemporaryDirectory() as workdir, running_assistant(Path(workdir), guard=GUARD_OFF) as assistant:
        print("  NLU on every held-out question...", flush=True)
        nlu = intent_scores(assistant, in_scope + safety_set)
        print("  end to end, in-scope questions...", flush=True)
        e2e = end_to_end(assistant, reader, in_scope + safety_set)
        print("  urgent and out-of-scope messages...", flush=True)
        safe = safety(assistant, reader, safety_set)
        print("  follow-up conversations...", flush=True)
        follow = conversations(assistant, reader)
    baseline = bm25_baseline(kb, in_scope + safety_set)
    rows = [
        ("intent accuracy", f"{nlu['intent_accuracy']:.3f}", "-"),
        ("intent macro F1", f"{nlu['intent_macro_f1']:.3f}", "-"),
        ("procedure entity F1", f"{nlu['procedure_entity_f1']:.3f}", "-"),
        (f"right section of right procedure ({e2e['questions']} q.)",
         f"{e2e['right_section_right_procedure']:.3f}", f"{baseline['right_section_right_procedure']:.3f}"),
        ("  ... answer shows only that section", f"{e2e['right_section_only_section']:.3f}", "-"),
        # A search engine has no notion of urgency: it never escalates.
        (f"urgent recall ({safe['urgent_messages']} msgs)", f"{safe['urgent_recall']:.3f}", "0.000"),
        ("urgent at the right tier", f"{safe['urgent_right_tier']:.3f}", "0.000"),
        (f"false alarms on risk questions ({safe['risk_questions']})",
         str(len(safe["false_alarms_on_risk_questions"])), "0"),
        ("out-of-scope intent precision", f"{nlu['out_of_scope_precision']:.3f}", "-"),
        (f"out-of-scope not answered with a section ({safe['out_of_scope_questions']})",
         f"{safe['out_of_scope_not_answered_with_a_section']:.3f}",
         f"{baseline['out_of_scope_not_answered_with_a_section']:.3f}"),
        (f"follow-up conversation turns right ({follow['turns']})", f"{follow['right']:.3f}", "-"),
    ]
    print(f"\n{'metric':58} {'assistant':>9} {'BM25':>7}")
    for name, ours, base in rows:
        print(f"{name:58} {ours:>9} {base:>7}")
    print(f"follow-up turns by kind: {follow['by_kind']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(
        {"nlu": nlu, "end_to_end": e2e, "safety": safe, "conversations": follow, "bm25_baseline": baseline},
        indent=2, default=str))
    print(f"Details (misses, false alarms): {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
