"""Finds urgent symptoms in a patient's message (definitions: data/safety/red_flags.yml).

A symptom is read in its context with medspaCy's ConText: reported now, asked
about conditionally ("what if I get a fever?"), or not the patient's now
(negated, in the past, someone else's). Only a report now is escalated; a
question about a symptom that is here now ("will my leg numbness go away? it
started this morning") is a report, and so is one begun with the procedure ("since
the racz it makes me vomit"), unless negated.
"""

from __future__ import annotations

import re as stdlib_re
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import regex  # the `regex` module: like `re`, plus typo-tolerant {e<=1} groups
import spacy
from medspacy.context import ConText, ConTextRule

from actions import knowledge_base, yaml_files
from actions.lemmas import english_words
from components.typos import one_typo_variants

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "safety" / "red_flags.yml"
TIER_ORDER = ("emergency", "care_team")  # most severe first
SYMPTOMS = "symptoms"  # the span group ConText reads
NOT_NOW = {"NEGATED_EXISTENCE", "HISTORICAL", "OTHER_EXPERIENCER"}
# A sentence starting with one of these goes on about the one before ("...? it started an hour ago").
PRONOUNS = {"it", "its", "this", "that", "thats", "they", "theyre", "she", "shes", "he", "hes", "which"}
SENTENCE_END = stdlib_re.compile(r"([.?!;\n]+)(?=\s|$)")
# A sentence that asks ("can I bring my inhaler for my breathing?") rather than tells.
QUESTION_START = stdlib_re.compile(
    r"^(can|could|will|would|is|are|am|do|does|did|should|shall|may|might|must|when|what|whats|how|why"
    r"|where|which|who|any|has|have|was|were)\b")


@dataclass(frozen=True)
class RedFlag:
    key: str
    tier: str
    intent: str


@dataclass(frozen=True)
class Assessment:
    reported: RedFlag | None  # the most severe flag reported now: escalate
    conditional: RedFlag | None  # the most severe one only asked about: answer, with when to call
    symptom_now: bool  # a symptom word reported now, not only asked about (an urgent intent needs one)
    names_symptom: bool = False  # any symptom word or flag, in any reading
    mentioned: RedFlag | None = None  # the most severe flag named, in any reading


def most_severe(flags) -> RedFlag | None:
    return min(flags, key=lambda flag: TIER_ORDER.index(flag.tier), default=None)


def normalise(text: str) -> str:
    """Lowercase, "can't" -> "cant", punctuation to spaces, single spaces."""
    text = stdlib_re.sub(r"['’‘`´]", "", text.lower())
    return " ".join(stdlib_re.sub(r"[^\w.]+|\.(?!\d)", " ", text).split())


def _long_words(patterns: list[str]) -> frozenset[str]:
    """The long words the patterns use: the ones worth fixing a typo towards."""
    return frozenset(w for p in patterns for w in stdlib_re.findall(r"(?<![\\a-z])[a-z]{6,}", p))


def placeholders(config: dict, kb: knowledge_base.KnowledgeBase) -> dict[str, list[str]]:
    """What "{procedure}" and "{past_year}" stand for in the cues: the generic words and every
    name of every procedure of the knowledge base (an added one too), as `normalise` writes
    them; every year from 1950 to last year."""
    names = {n for p in kb.procedures for n in (*p.names, *p.meta.abbreviations, *p.meta.misspellings)}
    procedure = {normalise(n) for n in names} | set(config["procedure_words"])
    return {"{procedure}": sorted(procedure, key=len, reverse=True),
            "{past_year}": [str(year) for year in range(1950, date.today().year)]}


def expanded_literals(literals: list[str], values: dict[str, list[str]]) -> list[str]:
    """Each literal once for every value of the placeholder it names."""
    result = []
    for literal in literals:
        variants = [literal]
        for placeholder, options in values.items():
            if placeholder in literal:
                variants = [v.replace(placeholder, option) for v in variants for option in options]
        result += variants
    return result


def expanded_patterns(patterns: list[str], values: dict[str, list[str]]) -> list[str]:
    """Each placeholder as a group of its values."""
    for placeholder, options in values.items():
        group = "(?:" + "|".join(stdlib_re.escape(o) for o in options) + ")"
        patterns = [p.replace(placeholder, group) for p in patterns]
    return patterns


def _compile(patterns: list[str]) -> list[regex.Pattern]:
    # Whole words only: "pus" must not fire inside "campus".
    return [regex.compile(rf"(?<!\w)(?:{p})(?!\w)", regex.IGNORECASE) for p in patterns]


class RedFlagMatcher:
    def __init__(self, path: Path | str = DEFAULT_PATH, kb: knowledge_base.KnowledgeBase | None = None):
        config = yaml_files.safe_load(Path(path).read_text(encoding="utf-8"))
        values = placeholders(config, kb or knowledge_base.default())

        def patterns(listed: list[str]) -> list[regex.Pattern]:
            return _compile(expanded_patterns(listed, values))

        self.tier_intents: dict[str, str] = config["tiers"]
        self.flags = [(RedFlag(f["key"], f["tier"], self.tier_intents[f["tier"]]), patterns(f["patterns"]))
                      for f in config["flags"]]
        self.general_question = patterns(config["general_question"])
        self.report_cue = patterns(config["report_cue"])
        self.now_cue = patterns(config["now_cue"])
        self.onset_cue = patterns(config["onset_cue"])
        self.not_now_sentence = patterns(config["not_now_sentence"])
        self.conditional_sentence = patterns(config["conditional_sentence"])
        self.sentence_now = patterns(config["sentence_now"])
        self.symptom_words = patterns(config["symptom_words"])
        # Most messages match none of these, and need no ConText. Searched one by one: one
        # pattern of them all took twice as long to search, and 0.3 s to build at start.
        self.every_symptom = [p for _, patterns in self.flags for p in patterns] + self.symptom_words
        self.words = _long_words([p for f in config["flags"] for p in f["patterns"]])
        self.real_words = english_words() | self.words  # a real word is never "corrected"
        self.nlp = spacy.blank("en")
        self.nlp.add_pipe("sentencizer")
        self.context = ConText(self.nlp, rules=None, span_attrs=None, input_span_type="group",
                               span_group_name=SYMPTOMS)
        self.context.add([
            ConTextRule(literal, rule["category"], direction=rule["direction"], max_scope=rule.get("max_scope"),
                        terminated_by=rule.get("terminated_by"), allowed_types=rule.get("allowed_types"))
            for rule in config["context_rules"] for literal in expanded_literals(rule["literals"], values)
        ])

    def _fix_typo(self, word: str) -> str:
        """"vomitting" -> "vomiting": the one pattern word one typo away, if only one is."""
        if word in self.real_words or not (word.isascii() and word.isalpha()):
            return word
        candidates = one_typo_variants(word) & self.words
        return next(iter(candidates)) if len(candidates) == 1 else word

    def _prepared(self, text: str) -> str:
        """Each sentence normalised and typo-fixed, ended by " ?" if it asks, else " .", for the sentencizer."""
        parts = SENTENCE_END.split(text)  # sentence, its end, sentence, ...
        sentences = []
        for part, end in zip(parts[::2], [*parts[1::2], ""]):
            words = " ".join(self._fix_typo(w) for w in normalise(part).split())
            if words:
                asks = "?" in end or QUESTION_START.match(words)
                sentences.append(f"{words} {'?' if asks else '.'}")
        return " ".join(sentences)

    def assess(self, text: str) -> Assessment:
        prepared = self._prepared(text)
        if not any(p.search(prepared) for p in self.every_symptom):
            return Assessment(reported=None, conditional=None, symptom_now=False)
        doc = self.nlp(prepared)

        def spans(patterns: list[regex.Pattern]) -> list:
            found = (doc.char_span(*m.span(), alignment_mode="expand") for p in patterns for m in p.finditer(doc.text))
            return [span for span in found if span is not None]

        found = {flag: matched for flag, patterns in self.flags if (matched := spans(patterns))}
        symptoms = spans(self.symptom_words)
        doc.spans[SYMPTOMS] = [span for matched in found.values() for span in matched] + symptoms
        with warnings.catch_warnings():  # spaCy's W036: ConText's token matcher has no rules (only phrases)
            warnings.filterwarnings("ignore", message=r"\[W036\]")
            self.context(doc)

        def categories(span) -> set[str]:
            # A cue inside the symptom's own words ("never" in "never been this bad") is
            # part of it: medspaCy 1.3.1's overlap test misses a cue wholly inside a target.
            # A condition that starts before them and runs into them ("if i got" in "if
            # [i got a fever]") is the symptom's, though medspaCy links it to none.
            into = {m.category for m in doc._.context_graph.modifiers
                    if m.category == "HYPOTHETICAL" and m.modifier_span[0] < span.start < m.modifier_span[1]}
            return into | {m.category for m in span._.modifiers
                           if not span.start <= m.modifier_span[0] < m.modifier_span[1] <= span.end}

        def only_asked(span) -> bool:
            # A symptom word in a question that reports nothing ("can I bring my inhaler
            # for my breathing?") is not a symptom now; "is it normal that..." reports.
            sentence = span.sent
            return sentence[-1].text == "?" and not any(p.search(sentence.text) for p in self.report_cue)

        def here_now(span, cues) -> bool:
            # The symptom's sentence, or the next one if it starts with a pronoun ("it started an hour ago").
            sentences = [span.sent]
            following = doc[span.sent.end:]
            if len(following) and following[0].lower_ in PRONOUNS:
                sentences.append(following[0].sent)
            return any(p.search(sentence.text) for sentence in sentences for p in cues)

        def whole_sentence(span) -> str | None:
            """"not now" for a sentence about the past, a long-standing condition or written
            instructions; "hypothetical" for one that sets a condition ("if ..."); None for
            any other, or one that says anything of now."""
            text = span.sent.text
            if any(p.search(text) for p in self.sentence_now) or here_now(span, self.onset_cue):
                return None
            if any(p.search(text) for p in self.not_now_sentence):
                return "not now"
            return "hypothetical" if any(p.search(text) for p in self.conditional_sentence) else None

        def reading(span) -> str:
            """"now", "hypothetical" (only asked about) or "not now"."""
            if whole := whole_sentence(span):
                return whole
            cues = categories(span)
            if not cues or (cues == {"HYPOTHETICAL"} and here_now(span, self.now_cue)):
                return "now"
            if "NEGATED_EXISTENCE" not in cues and here_now(span, self.onset_cue):
                return "now"
            return "hypothetical" if "HYPOTHETICAL" in cues and not cues & NOT_NOW else "not now"

        def hypothetical(span) -> bool:
            return reading(span) == "hypothetical"

        # A question about risk in general ("is infection a risk?") reports nothing, unless
        # the message has a report cue; only the sentence that asks it is general ("is
        # this from the dye? hives all over my arms" reports).
        reports_something = any(p.search(doc.text) for p in self.report_cue)

        def general(span) -> bool:
            return not reports_something and any(p.search(span.sent.text) for p in self.general_question)

        def reported_now(span) -> bool:
            return reading(span) == "now" and not general(span)

        reported = [f for f, matched in found.items() if any(map(reported_now, matched))]
        conditional = [f for f, matched in found.items() if any(map(hypothetical, matched))]
        return Assessment(
            reported=most_severe(reported),
            conditional=None if reported else most_severe(conditional),
            symptom_now=any(reported_now(s) and not only_asked(s) for s in symptoms),
            names_symptom=True,
            mentioned=most_severe(found),
        )

    def match(self, text: str) -> RedFlag | None:
        """The most severe red flag the message reports now, or None."""
        return self.assess(text).reported
