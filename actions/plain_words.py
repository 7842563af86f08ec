"""Plain words: "what does X mean?" and "in simpler words", from the knowledge base only.

A term is explained with the glossary's definition, the documents that use it
and a button back to the section that used it. A section is put in simpler
words with its plain-language version (data/knowledge_base/plain/), or, where
there is none, with the original's terms explained in brackets the first time.
With PLAIN_WORDS_REVIEWED_ONLY=true only what the clinic marked reviewed is served.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import feedback, glossary, knowledge_base, plain_versions
from actions.answers import (
    FEEDBACK_BUTTONS,
    MORE_BUTTON,
    SECTION_INTENT_PREFIX,
    answer_text,
    payload,
    procedure_buttons,
    section_lines,
    section_title,
    split_short,
)
from actions.glossary import Glossary, GlossaryEntry
from actions.knowledge_base import KnowledgeBase, Procedure
from actions.lemmas import lemma
from components.typos import one_typo_variants

SIMPLER_INTENT = "simpler_words"
SECTION_ENTITY = "section_key"  # which section a button's "In simpler words" is about
PLAIN_NOTE = "This is a plain-language version of the clinic's document."
EXPLAINED_NOTE = (
    "There is no plain-language version of this part yet. These are the clinic's own words, "
    "with the medical words explained in brackets."
)
UNEXPLAINED_NOTE = "There is no plain-language version of this part yet. These are the clinic's own words."
GLOSSARY_REMINDER = (
    "This explanation is from the clinic's glossary; your own care team has the final word on your care."
)
OWN_WORDS_TITLE = "The clinic's own words"
MAX_BACK_BUTTONS = 3
# "simpler please", "in plain english", "explain like I'm 12", "I don't understand".
ASKS_FOR_PLAIN_WORDS = re.compile(
    r"\b(simpl\w*|plain|easier|easy words|layman|like (?:i ?a?m|i['’]m) (?:\d+|a kid|five|ten|twelve)"
    r"|(?:do ?n[o'’]?t|didn['’]?t) (?:understand|get it)|confus\w*|too (?:hard|complicated|technical))\b",
    re.IGNORECASE,
)


def simpler_button(procedure: Procedure, key: str) -> dict[str, str]:
    entities = json.dumps({"procedure": procedure.code, SECTION_ENTITY: key})
    return {"title": "In simpler words", "payload": f"/{SIMPLER_INTENT}{entities}"}


# Words around a term in "what does X mean?" that ask nothing else.
MEANING_WORDS = {
    "what", "whats", "what's", "is", "are", "a", "an", "the", "does", "do", "mean", "means", "meaning",
    "define", "definition", "of", "word", "term", "s", "that", "this", "exactly", "can", "you", "please",
    "explain", "tell", "me", "i", "dont", "don't", "know", "by", "so", "ok", "and", "um", "hmm", "again",
    "sorry", "wait", "huh", "it", "pls", "plz",
}


def asks_for_plain_words(text: str) -> bool:
    return bool(ASKS_FOR_PLAIN_WORDS.search(text or ""))


def asked_term(text: str, terms: Glossary) -> GlossaryEntry | None:
    """The term when the message only asks what it means ("what's a hematoma?", "discitis?").

    "What are the risks of fluoroscopy?" asks about something else: None.
    """
    entry = terms.lookup(text)
    if entry is None:
        return None
    words = re.findall(r"[a-z']+", text.lower())
    forms = {w for form in entry.forms for w in glossary.normalise(form).split()}
    others = [w for w in words if w.replace("'", "") not in forms and w not in MEANING_WORDS
              and w.replace("'", "") not in MEANING_WORDS and lemma(w) not in forms]
    # A typo of the term (one edit) is the term, not another word.
    others = [w for w in others if not any(v in forms for v in one_typo_variants(w))]
    return None if others else entry


def served_glossary() -> Glossary:
    return glossary.default().served(glossary.reviewed_only())


# ---------- "in simpler words" ----------


def explain_inline(text: str, terms: Glossary, explained: set[str]) -> str:
    """The text with each term not yet explained followed by its plain words in brackets."""
    pieces, last = [], 0
    for found in terms.find(text):
        if found.entry.term in explained:
            continue
        explained.add(found.entry.term)
        # "Discitis (disc infection)", "fluoroscopy (X-ray)": the document explains it already.
        already = text[found.end:].lstrip().startswith("(") or text[:found.start].rstrip().endswith("(")
        if not already:
            pieces += [text[last:found.end], f" ({found.entry.inline})"]
            last = found.end
    return "".join(pieces) + text[last:]


PLAIN_REST = "plain"  # the more_to_show slot: "Tell me more" continues the simpler words


def simpler_lines(procedure: Procedure, key: str) -> tuple[list[str], str]:
    """(lines, note) of a section in simpler words: the plain version, else the
    original with its terms explained the first time they appear."""
    plain = plain_versions.default().section(procedure, key, glossary.reviewed_only())
    if plain is not None:
        return section_lines(plain.blocks), PLAIN_NOTE
    terms, explained = served_glossary(), set()
    lines = [explain_inline(line, terms, explained) for line in section_lines(procedure.section(key).blocks)]
    return lines, EXPLAINED_NOTE if explained else UNEXPLAINED_NOTE


def simpler_answer(kb: KnowledgeBase, procedure: Procedure, key: str) -> tuple[str, list[dict[str, str]], bool]:
    """(text, buttons, whether there is more) for one section in simpler words.
    A long one comes in parts, like the original."""
    lines, note = simpler_lines(procedure, key)
    shown, rest = split_short(lines)
    own_words = {"title": OWN_WORDS_TITLE, "payload": payload(f"{SECTION_INTENT_PREFIX}{key}", procedure)}
    buttons = ([MORE_BUTTON] if rest else []) + [own_words, *FEEDBACK_BUTTONS]
    heading = f"{section_title(kb, key)}, in simpler words"
    return answer_text(procedure, heading, shown, note), buttons, bool(rest)


def simpler_rest(kb: KnowledgeBase, procedure: Procedure, key: str) -> str:
    """The rest of a section in simpler words, after the first part."""
    _, rest = split_short(simpler_lines(procedure, key)[0])
    return answer_text(procedure, f"{section_title(kb, key)}, in simpler words (continued)", rest)


def entity_value(tracker: Tracker, name: str) -> str | None:
    return next((e.get("value") for e in tracker.latest_message.get("entities") or []
                 if e.get("entity") == name and isinstance(e.get("value"), str)), None)


def simpler_words(dispatcher: CollectingDispatcher, kb: KnowledgeBase, procedure: Procedure,
                  key: str) -> list[EventType]:
    if procedure.section(key) is None:  # e.g. a typed "/simpler_words{...}" naming no real section
        key = "summary"
    text, buttons, more = simpler_answer(kb, procedure, key)
    dispatcher.utter_message(text=text, buttons=buttons)
    return [SlotSet("procedure", procedure.code), SlotSet("section", key),
            SlotSet("awaiting_procedure", False), SlotSet("more_to_show", PLAIN_REST if more else None)]


class ActionSimplerWords(Action):
    """The section the patient was just given (or the one its button names), in simpler words."""

    def name(self) -> str:
        return "action_simpler_words"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        kb = knowledge_base.default()
        procedure = kb.get(entity_value(tracker, "procedure")) or kb.get(tracker.get_slot("procedure"))
        if procedure is None:
            dispatcher.utter_message(response="utter_simpler_nothing_yet",
                                     buttons=procedure_buttons(kb, "about_procedure"))
            return []
        # A button names its section; "what's epidural adhesiolysis in simple words?" is its summary.
        named = kb.get(entity_value(tracker, "procedure"))
        key = entity_value(tracker, SECTION_ENTITY) or (
            "summary" if named else tracker.get_slot("section") or "summary")
        return simpler_words(dispatcher, kb, procedure, key)


# ---------- "what does X mean?" ----------


def documents_using(kb: KnowledgeBase, terms: Glossary, entry: GlossaryEntry) -> list[tuple[Procedure, list[str]]]:
    """Each procedure whose document uses the term, with the section keys that use it."""
    using = []
    for procedure in kb.procedures:
        keys = [key for key, section in procedure.document.sections.items()
                if any(f.entry is entry for f in terms.find(" ".join(b.full_text for b in section.blocks)))]
        if keys:
            using.append((procedure, keys))
    return using


def explanation(kb: KnowledgeBase, terms: Glossary, entry: GlossaryEntry, current: Procedure | None,
                current_key: str | None) -> tuple[str, list[dict[str, Any]]]:
    using = documents_using(kb, terms, entry)
    lines = [f"{entry.display}: {entry.definition}"]
    if using:
        lines.append("The clinic's documents use this word in:")
        lines += [f"• {p.label}: {', '.join(section_title(kb, k).lower() for k in keys)}" for p, keys in using]
    lines.append(GLOSSARY_REMINDER)
    # Back to where the patient met the word, else to where the documents use it.
    places = [(p, k) for p, keys in using for k in keys]
    if current is not None and (current, current_key) in places:
        places = [(current, current_key)]
    buttons = [
        {"title": f"Back to {section_title(kb, k).lower()}" if len(places) == 1
         else f"{p.display_name}: {section_title(kb, k).lower()}",
         "payload": payload(f"{SECTION_INTENT_PREFIX}{k}", p)}
        for p, k in places[:MAX_BACK_BUTTONS]
    ]
    return "\n".join(lines), buttons


def explain_term(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> list[EventType]:
    """Explains the term the text asks about, or says honestly that it can't."""
    kb = knowledge_base.default()
    terms = served_glossary()
    entry = terms.lookup(text)
    if entry is None:
        dispatcher.utter_message(response="utter_term_unknown")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        feedback.record("unknown_term", intent, tracker.get_slot("procedure"), tracker.get_slot("section"), text)
        return []
    reply, buttons = explanation(kb, terms, entry, kb.get(tracker.get_slot("procedure")), tracker.get_slot("section"))
    dispatcher.utter_message(text=reply, buttons=buttons)
    return []


class ActionExplainTerm(Action):
    def name(self) -> str:
        return "action_explain_term"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        text = "" if text.startswith("/") else text
        if not set(re.findall(r"[a-z']+", text.lower())) - MEANING_WORDS:
            # "What does that mean?" names no word: the answer on screen, in simpler words.
            kb = knowledge_base.default()
            procedure, key = kb.get(tracker.get_slot("procedure")), tracker.get_slot("section")
            if procedure is not None and key:
                return simpler_words(dispatcher, kb, procedure, key)
            dispatcher.utter_message(response="utter_which_word")
            return []
        if not served_glossary().lookup(without_procedure_names(tracker, text)) and named_procedure(tracker):
            # "What is lysis of adhesions?" asks what the procedure is: its overview.
            from actions.actions import ActionAnswerSection  # actions.actions imports this module

            return await ActionAnswerSection().run(dispatcher, tracker, domain)
        return explain_term(dispatcher, tracker, text)


def named_procedure(tracker: Tracker) -> bool:
    kb = knowledge_base.default()
    return any(e.get("entity") == "procedure" and kb.get(e.get("value"))
               for e in tracker.latest_message.get("entities") or [])


def without_procedure_names(tracker: Tracker, text: str) -> str:
    """The text with the procedure names NLU found in it blanked out."""
    for entity in tracker.latest_message.get("entities") or []:
        start, end = entity.get("start"), entity.get("end")
        if entity.get("entity") == "procedure" and isinstance(start, int) and isinstance(end, int):
            text = text[:start] + " " * (end - start) + text[end:]
    return text
