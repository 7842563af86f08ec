"""Answer quality through the running assistant, against plain BM25.

    make bench-nlu

Every message goes to the real Rasa server and action server over REST. Printed,
and written to bench/results/nlu.json:
- the held-out sets (tests/heldout/, never trained on): intent accuracy, procedure
  entity F1, right section of the right procedure, urgent recall, false alarms on
  risk questions, out-of-scope precision, follow-up conversations;
- the sealed set (tests/sealed/, written by someone who never saw the training
  data): right section of right procedure and procedure recognition, single turns
  and conversations, urgent recall, off-topic questions not answered. Only its
  counts are kept: its misses are never written or shown, so that nothing is tuned
  on it;
- the development sets (tests/dev/, the sealed set until 2026-12-04, and tests/dev_2/): the
  same figures, and their misses, which may guide changes (`python -m bench.nlu --dev` runs
  them alone);
- the benign and red-flag sets (tests/safety/): urgent recall, right tier, false alarms;
  the example pairs (data/safety/examples/, development pairs until they became
  the learned red-flag net's training examples: figures on them are training figures), whose
  misses may be read; and the sealed pairs (tests/sealed/safety/, safety_2/): the same
  figures, counts only. Each was written by a helper that saw only the documents;
- a sixth procedure added to a copy of the project the way docs/content.md says
  (scripts/clinic_copy.py, trained in the run): its questions answered right;
- the same in-scope questions answered by plain BM25 over the documents' passages.
"""
from __future__ import annotations

import json
import re
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi
from sklearn.metrics import f1_score

from actions import knowledge_base
from scripts.clinic_copy import ADDED, with_added_procedure
from scripts.local_servers import GUARD_OFF, ROOT, Assistant, running_assistant

HELDOUT = ROOT / "tests" / "heldout"
SEALED = ROOT / "tests" / "sealed"  # measured only: its misses are never looked at
DEV = ROOT / "tests" / "dev"  # written like the sealed set; its misses may be read
# Development sets: helper-written like the sealed set (tests/dev was the sealed set until
# 2026-12-04, tests/dev_2 was written on 2026-12-08; the two before them are training data
# now, data/nlu/sections/).
DEV_SETS = {"dev": DEV, "dev 2": ROOT / "tests" / "dev_2"}
# Red-flag pairs written like the sealed pairs by helpers that saw only the documents,
# then read to improve the patterns; now also the learned red-flag net's training examples.
EXAMPLE_SAFETY = {f"examples {folder.name.removeprefix('set_')}": folder
                  for folder in sorted((ROOT / "data" / "safety" / "examples").glob("set_*"))}
# Sealed red-flag pairs (2026-12-02 and 2026-12-07): only their counts are kept.
SEALED_SAFETY = {"sealed": SEALED / "safety", "sealed 2": SEALED / "safety_2"}
SAFETY = ROOT / "tests" / "safety"
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
            heading = header["heading"].removesuffix(" (continued)").removesuffix(", in simpler words")
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


def judge(reader: Reader, replies: list[dict], expect: dict) -> tuple[str, bool, bool | None]:
    """(kind, right?, right procedure?) of the replies to one turn.

    `expect` as in tests/heldout/conversations.yml, or as in tests/sealed/ (where
    `sections` lists every section that answers the question, `urgent: true`).
    """
    text = " ".join(r.get("text") or "" for r in replies)
    answers = reader.answers(replies)
    if "urgent" in expect:
        tier = {"emergency": EMERGENCY_TEXT, "care_team": CARE_TEAM_TEXT}.get(expect["urgent"])
        return "urgent", (tier in text) if tier else (EMERGENCY_TEXT in text or CARE_TEAM_TEXT in text), None
    if expect.get("out_of_scope"):
        return "out_of_scope", not answers, None
    if expect.get("ask_procedure"):
        return "ask_procedure", "Which procedure" in text, None
    if expect.get("more"):
        # The rest of the section, or, if it was shown whole, saying there is no more.
        return "more", (bool(answers) and "(continued)" in text) or "That was everything the document says" in text, None
    codes = [reader.kb.get(c).code for c in expect.get("procedures") or [expect["procedure"]]]
    sections = set(expect.get("sections") or [expect["section"]])
    procedure_right = [c for c, _ in answers[:len(codes)]] == codes
    if len(codes) > 1:
        ok = procedure_right and len(answers) == len(codes) and all(sections & keys for _, keys in answers)
    else:
        ok = procedure_right and all(c == codes[0] for c, _ in answers) and bool(sections & answers[0][1])
    return "section", ok, procedure_right


def conversations(assistant: Assistant, reader: Reader, path: Path, keep_misses: bool = True) -> dict:
    """Turn by turn; `keep_misses=False` for the sealed set, whose misses nobody reads."""
    data = yaml.safe_load(path.read_text())["conversations"]
    by_kind, procedures, wrong = Counter(), Counter(), []
    for conversation in data:
        sender = new_patient()
        for turn in conversation["turns"]:
            replies = assistant.send(sender, str(turn["user"]))
            kind, ok, procedure_right = judge(reader, replies, turn["expect"])
            by_kind[(kind, ok)] += 1
            if procedure_right is not None:
                procedures[procedure_right] += 1
            if not ok and keep_misses:
                wrong.append({"conversation": conversation["name"], "user": turn["user"],
                              "expect": turn["expect"],
                              "got": " ".join(r.get("text") or "" for r in replies)[:160]})
    return summary(by_kind, procedures) | ({"wrong": wrong} if keep_misses else {})


def single_turns(assistant: Assistant, reader: Reader, items: list[dict], keep_misses: bool = False) -> dict:
    """Each question from a new patient; only the counts unless `keep_misses` (never for the sealed set)."""
    by_kind, procedures, wrong = Counter(), Counter(), []
    for item in items:
        replies = assistant.send(new_patient(), item["user"])
        kind, ok, procedure_right = judge(reader, replies, item["expect"])
        by_kind[(kind, ok)] += 1
        if procedure_right is not None:
            procedures[procedure_right] += 1
        if not ok and keep_misses:
            wrong.append({"user": item["user"], "expect": item["expect"],
                          "got": " ".join(r.get("text") or "" for r in replies)[:160]})
    return summary(by_kind, procedures) | ({"wrong": wrong} if keep_misses else {})


def summary(by_kind: Counter, procedures: Counter) -> dict:
    kinds = sorted({k for k, _ in by_kind})
    turns = sum(by_kind.values())
    return {
        "turns": turns,
        "right": sum(n for (_, ok), n in by_kind.items() if ok) / turns,
        "by_kind": {k: f"{by_kind[(k, True)]}/{by_kind[(k, True)] + by_kind[(k, False)]}" for k in kinds},
        "right_section_right_procedure": share(by_kind, "section"),
        "procedure_recognition": procedures[True] / sum(procedures.values()) if procedures else None,
        "urgent_recall": share(by_kind, "urgent"),
        "out_of_scope_not_answered": share(by_kind, "out_of_scope"),
    }


def share(by_kind: Counter, kind: str) -> float | None:
    total = by_kind[(kind, True)] + by_kind[(kind, False)]
    return by_kind[(kind, True)] / total if total else None


def safety_sets(assistant: Assistant, folder: Path = SAFETY, keep_misses: bool = True) -> dict:
    """A benign and a red-flag set: every real report escalated, no benign message alarmed.

    `keep_misses=False` for tests/sealed/safety/, whose misses nobody reads.
    """
    reports = yaml.safe_load((folder / "urgent_reports.yml").read_text())["reports"]
    benign = yaml.safe_load((folder / "benign_symptom_words.yml").read_text())["messages"]
    missed, wrong_tier, alarmed = [], [], []
    for report in reports:
        text = " ".join(r.get("text") or "" for r in assistant.send(new_patient(), report["text"]))
        if EMERGENCY_TEXT not in text and CARE_TEAM_TEXT not in text:
            missed.append(report["text"])
        elif {"emergency": EMERGENCY_TEXT, "care_team": CARE_TEAM_TEXT}[report["tier"]] not in text:
            wrong_tier.append(report["text"])
    for message in benign:
        text = " ".join(r.get("text") or "" for r in assistant.send(new_patient(), message["text"]))
        if EMERGENCY_TEXT in text or CARE_TEAM_TEXT in text:
            alarmed.append(message["text"])
    figures = {"reports": len(reports), "urgent_recall": 1 - len(missed) / len(reports),
               "right_tier": 1 - (len(missed) + len(wrong_tier)) / len(reports),
               "benign": len(benign), "false_alarms": len(alarmed)}
    return {**figures, "missed": missed, "wrong_tier": wrong_tier, "alarmed": alarmed} if keep_misses else figures


def safety_rows(pairs: dict[str, dict]) -> list[tuple[str, str, str]]:
    """The printed rows of named red-flag pairs: each figure, pair by pair."""
    return [
        *((f"{name} red-flag set: urgent recall ({pair['reports']})", figure(pair["urgent_recall"]), "0.000")
          for name, pair in pairs.items()),
        *((f"{name} red-flag set: right tier", figure(pair["right_tier"]), "0.000") for name, pair in pairs.items()),
        *((f"{name} benign set: false alarms ({pair['benign']})", str(pair["false_alarms"]), "0")
          for name, pair in pairs.items()),
    ]


def sealed_items() -> list[dict]:
    return yaml.safe_load((SEALED / "questions.yml").read_text())["questions"]


def dev_items(folder: Path) -> list[dict]:
    return yaml.safe_load((folder / "questions.yml").read_text())["questions"]


def dev_sets(assistant: Assistant, reader: Reader) -> dict[str, tuple[dict, dict]]:
    """Each development set's single questions and conversations, misses kept."""
    return {name: (single_turns(assistant, reader, dev_items(folder), keep_misses=True),
                   conversations(assistant, reader, folder / "conversations.yml"))
            for name, folder in DEV_SETS.items()}


def print_dev_misses() -> None:
    """`python -m bench.nlu --dev`: the development sets (and the example red-flag pairs) only, every miss printed."""
    reader = Reader(knowledge_base.default())
    with tempfile.TemporaryDirectory() as workdir, running_assistant(Path(workdir), guard=GUARD_OFF) as assistant:
        sets = dev_sets(assistant, reader)
        safety = {name: safety_sets(assistant, folder) for name, folder in EXAMPLE_SAFETY.items()}
    for name, figures in safety.items():
        for label in ("missed", "wrong_tier", "alarmed"):
            print(f"# {name} safety sets: {label} ({len(figures[label])})")
            for text in figures[label]:
                print(f"- {text!r}")
    for name, (single, talks) in sets.items():
        print(f"# {name}")
        for miss in single["wrong"] + talks["wrong"]:
            print(f"- {miss.get('conversation', '')} {miss['user']!r}\n    expect {miss['expect']}\n    got    {miss['got']!r}")
    for name, (single, talks) in sets.items():
        for kind, figures in (("single", single), ("conversations", talks)):
            print(f"{name} {kind}: right section of right procedure {figure(figures['right_section_right_procedure'])}, "
                  f"procedure recognition {figure(figures['procedure_recognition'])}, by kind {figures['by_kind']}")


def added_items() -> list[dict]:
    questions = yaml.safe_load((ADDED / "questions.yml").read_text())["questions"]
    return [{"user": q["user"], "expect": {"urgent": True} if q.get("urgent") else
             {"procedure": "62323", "sections": q["sections"]}} for q in questions]


class BM25:
    """Plain BM25 over the documents' passages (lowercased words, no lemmas, no NLU)."""

    def __init__(self, kb: knowledge_base.KnowledgeBase):
        self.passages = [
            (p.code, key, self.words(f"{p.document.name} {b.full_text}"))
            for p in kb.procedures for key, s in p.document.sections.items() for b in s.blocks
        ]
        self.index = BM25Okapi([words for _, _, words in self.passages])

    @staticmethod
    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    def top(self, text: str) -> tuple[float, str, str]:
        """(score, procedure code, section key) of the best passage."""
        scores = self.index.get_scores(self.words(text))
        best = max(range(len(self.passages)), key=scores.__getitem__)
        return scores[best], self.passages[best][0], self.passages[best][1]

    def right_section_right_procedure(self, items: list[dict]) -> float:
        """Share of in-scope items (tests/sealed/ format) whose top passage is right."""
        in_scope = [i for i in items if "procedure" in i["expect"]]
        right = sum(self.top(i["user"])[1:] in {(i["expect"]["procedure"], k) for k in i["expect"]["sections"]}
                    for i in in_scope)
        return right / len(in_scope)

    def out_of_scope_not_answered(self, items: list[dict]) -> float | None:
        out = [i for i in items if i["expect"].get("out_of_scope")]
        return sum(self.top(i["user"])[0] <= 0 for i in out) / len(out) if out else None


def heldout_as_items(kb: knowledge_base.KnowledgeBase, examples_) -> list[dict]:
    """Held-out NLU examples naming one procedure, in the tests/sealed/ format."""
    items = []
    for intent, text, codes in examples_:
        if intent == "out_of_scope":
            items.append({"user": text, "expect": {"out_of_scope": True}})
        elif intent.startswith("ask_") and len(set(codes)) == 1:
            items.append({"user": text, "expect": {"procedure": kb.get(codes[0]).code,
                                                   "sections": [intent.removeprefix("ask_")]}})
    return items


def figure(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def dev_rows(dev: dict[str, tuple[dict, dict]], bm25: BM25) -> list[tuple[str, str, str]]:
    rows = []
    for name, (single, talks) in dev.items():
        items = dev_items(DEV_SETS[name])
        rows += [
            (f"{name}: right section of right procedure, single ({single['by_kind'].get('section', '-')})",
             figure(single["right_section_right_procedure"]), figure(bm25.right_section_right_procedure(items))),
            (f"{name}: procedure recognition, single", figure(single["procedure_recognition"]), "-"),
            (f"{name}: off-topic not answered", figure(single["out_of_scope_not_answered"]),
             figure(bm25.out_of_scope_not_answered(items))),
            (f"{name}: conversations, right section of right procedure ({talks['by_kind'].get('section', '-')})",
             figure(talks["right_section_right_procedure"]), "-"),
        ]
    return rows


def main() -> None:
    kb = knowledge_base.default()
    reader = Reader(kb)
    bm25 = BM25(kb)
    in_scope = list(examples(HELDOUT / "nlu.yml"))
    safety_set = list(examples(HELDOUT / "safety.yml"))
    heldout_items = heldout_as_items(kb, in_scope + safety_set)
    print(f"Held-out: {len(in_scope)} questions (nlu.yml), {len(safety_set)} (safety.yml), "
          "conversations.yml; sealed: tests/sealed/; tests/safety/; the added procedure. "
          "Starting the assistant...", flush=True)
    with tempfile.TemporaryDirectory() as workdir, running_assistant(Path(workdir), guard=GUARD_OFF) as assistant:
        print("  NLU on every held-out question...", flush=True)
        nlu = intent_scores(assistant, in_scope + safety_set)
        print("  held-out, end to end...", flush=True)
        e2e = end_to_end(assistant, reader, in_scope + safety_set)
        safe = safety(assistant, reader, safety_set)
        follow = conversations(assistant, reader, HELDOUT / "conversations.yml")
        print("  sealed set (only its counts are kept)...", flush=True)
        sealed = single_turns(assistant, reader, sealed_items())
        sealed_conversations = conversations(assistant, reader, SEALED / "conversations.yml", keep_misses=False)
        print("  development sets...", flush=True)
        dev = dev_sets(assistant, reader)
        print("  benign and red-flag sets...", flush=True)
        safety_figures = safety_sets(assistant)
        example_safety = {name: safety_sets(assistant, folder) for name, folder in EXAMPLE_SAFETY.items()}
        sealed_safety = {name: safety_sets(assistant, folder, keep_misses=False)
                         for name, folder in SEALED_SAFETY.items()}
    print("  a copy of the project with a sixth procedure added as docs/content.md says (trains)...", flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        project = with_added_procedure(Path(workdir))
        added_kb = knowledge_base.load(project / "data" / "knowledge_base")
        with running_assistant(Path(workdir), guard=GUARD_OFF, root=project) as clinic:
            added = single_turns(clinic, Reader(added_kb), added_items())
        added_bm25 = BM25(added_kb).right_section_right_procedure(added_items())

    rows = [
        ("held-out: intent accuracy", figure(nlu["intent_accuracy"]), "-"),
        ("held-out: procedure entity F1", figure(nlu["procedure_entity_f1"]), "-"),
        (f"held-out: right section of right procedure ({e2e['questions']} q.)",
         figure(e2e["right_section_right_procedure"]), figure(bm25.right_section_right_procedure(heldout_items))),
        (f"held-out: urgent recall ({safe['urgent_messages']} msgs)", figure(safe["urgent_recall"]), "0.000"),
        (f"held-out: false alarms on risk questions ({safe['risk_questions']})",
         str(len(safe["false_alarms_on_risk_questions"])), "0"),
        ("held-out: out-of-scope intent precision", figure(nlu["out_of_scope_precision"]), "-"),
        (f"held-out: off-topic not answered ({safe['out_of_scope_questions']})",
         figure(safe["out_of_scope_not_answered_with_a_section"]), figure(bm25.out_of_scope_not_answered(heldout_items))),
        (f"held-out: conversation turns right ({follow['turns']})", figure(follow["right"]), "-"),
        (f"sealed: right section of right procedure, single ({sealed['by_kind'].get('section', '-')})",
         figure(sealed["right_section_right_procedure"]), figure(bm25.right_section_right_procedure(sealed_items()))),
        ("sealed: procedure recognition, single", figure(sealed["procedure_recognition"]), "-"),
        ("sealed: urgent recall", figure(sealed["urgent_recall"]), "0.000"),
        ("sealed: off-topic not answered", figure(sealed["out_of_scope_not_answered"]),
         figure(bm25.out_of_scope_not_answered(sealed_items()))),
        (f"sealed: conversations, right section of right procedure "
         f"({sealed_conversations['by_kind'].get('section', '-')})",
         figure(sealed_conversations["right_section_right_procedure"]), "-"),
        ("sealed: conversations, procedure recognition", figure(sealed_conversations["procedure_recognition"]), "-"),
        (f"sealed: conversation turns right, all kinds ({sealed_conversations['turns']})",
         figure(sealed_conversations["right"]), "-"),
        *dev_rows(dev, bm25),
        (f"red-flag set: urgent recall ({safety_figures['reports']})", figure(safety_figures["urgent_recall"]), "0.000"),
        ("red-flag set: right tier", figure(safety_figures["right_tier"]), "0.000"),
        (f"benign set: false alarms ({safety_figures['benign']})", str(safety_figures["false_alarms"]), "0"),
        *safety_rows(example_safety),
        *safety_rows(sealed_safety),
        (f"added procedure: right section of right procedure ({added['turns']})",
         figure(added["right_section_right_procedure"]), figure(added_bm25)),
        ("added procedure: procedure recognition", figure(added["procedure_recognition"]), "-"),
    ]
    print(f"\n{'metric':70} {'assistant':>9} {'BM25':>7}")
    for name, ours, base in rows:
        print(f"{name:70} {ours:>9} {base:>7}")
    print(f"sealed by kind: single {sealed['by_kind']}, conversations {sealed_conversations['by_kind']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(
        {"nlu": nlu, "end_to_end": e2e, "safety": safe, "conversations": follow,
         "sealed": sealed, "sealed_conversations": sealed_conversations,
         "dev": dev, "safety_sets": safety_figures, "example_safety_sets": example_safety, "sealed_safety_sets": sealed_safety,
         "added_procedure": added}, indent=2, default=str))
    print(f"Details (held-out and safety-set misses; the sealed set's counts only): {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--dev"]:
        print_dev_misses()
    else:
        main()
