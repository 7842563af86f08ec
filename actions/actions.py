"""Custom actions: answers drawn from the knowledge base, nothing else."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sklearn.feature_extraction._stop_words import ENGLISH_STOP_WORDS

from actions import feedback, glossary, knowledge_base, plain_versions, retrieval
from actions.answers import (
    FEEDBACK_BUTTONS,
    MORE_BUTTON,
    SECTION_INTENT_PREFIX,
    answer_text,
    matched_lines,
    payload,
    procedure_buttons,
    section_buttons,
    section_lines,
    section_title,
    split_short,
)
from actions.knowledge_base import KnowledgeBase, Procedure
from actions.lemmas import english_words, lemmas
from actions.plain_words import (
    PLAIN_REST,
    asked_term,
    asks_for_plain_words,
    explain_term,
    simpler_button,
    simpler_rest,
    simpler_words,
)
from actions.retrieval import Match, NotInDocument
from components.procedure_descriptions import DESCRIBED, SWITCH_SCORE, DescriptionIndex

OVERVIEW = "summary"  # what "tell me about X" shows first
# "How long?" right after one of these sections asks about it, not the procedure's duration.
ELLIPTICAL_DURATION_SECTIONS = {"recovery", "preparation"}
ELLIPTICAL_MAX_WORDS = 4
# An unsure reading this confident of a section question is answered as one, in a
# conversation already about a procedure (the fallback threshold is 0.4, config.yml).
FOLLOW_UP_MIN = 0.2
# Between the classifier's likeliest section questions, the document decides too: each
# one's confidence plus this much of how well the question's words fit that section
# (retrieval.section_fit): "will it be in a hospital or an outpatient clinic?" is the
# setting, whose bullet names both. Development set: 270 -> 274 of 306 single questions,
# none lost (docs/performance.md).
SECTION_FIT_WEIGHT = 0.4
SECTIONS_WEIGHED = 3
# A description right after a procedure's name: "the Racz with the catheter", up to the
# next punctuation mark, conjunction or question word ("... and what are the risks").
BESIDE_NAME = re.compile(
    r"\s*(?:with|using|through|via|by)\s+"
    r"((?:(?!\b(?:and|or|but|so|what|how|when|where|why|who|which|is|are|will|can|does|do)\b)[\w' -])+)",
    re.IGNORECASE)


def typed_text(tracker: Tracker) -> str:
    """The patient's own words ("" for a button press, whose text is a payload)."""
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text


def intent_of(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [
        e.get("value") for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity and isinstance(e.get("value"), str)
    ]


def other_topics_in_message(kb: KnowledgeBase, tracker: Tracker) -> list[str]:
    """Topics without a document named in the latest message. Only the knowledge
    base's own names: a typed "/intent{...}" could carry any text, never repeated."""
    known = {topic.casefold(): topic for topic in kb.other_topics}
    return [known[v.casefold()] for v in entity_values(tracker, "other_topic") if v.casefold() in known]


def procedures_in_message(kb: KnowledgeBase, tracker: Tracker) -> list[Procedure]:
    """Known procedures named in the latest message, in order, without repeats.

    Unknown values (say, typed by hand as "/ask_risks{"procedure": "x"}") are ignored.
    """
    found: list[Procedure] = []
    for value in entity_values(tracker, "procedure"):
        procedure = kb.get(value)
        if procedure and procedure not in found:
            found.append(procedure)
    return found


def procedures_meant(kb: KnowledgeBase, tracker: Tracker) -> tuple[list[Procedure], list[Procedure]]:
    """(the procedures the message is about, or the candidates to ask between).

    Named procedures first; else the ones it describes ("the scar tissue procedure
    with the catheter"), where the conversation's own procedure wins if it fits.
    """
    named = procedures_in_message(kb, tracker)
    if named:
        return named, []
    scores = {e["value"]: e.get("confidence") or 0.0 for e in tracker.latest_message.get("entities") or []
              if e.get("entity") == DESCRIBED and kb.get(e.get("value"))}
    described = [kb.get(code) for code in scores]
    current = kb.get(tracker.get_slot("procedure"))
    if current in described or not described:
        return [], []
    if current and max(scores.values()) < SWITCH_SCORE:
        return [], []
    return (described, []) if len(described) == 1 else ([], described)


@lru_cache(maxsize=None)
def descriptions() -> DescriptionIndex:
    return DescriptionIndex(knowledge_base.default(), retrieval.default_topics())


def warm_up() -> None:
    """Loads and indexes what the answers read. The action server calls it when it
    starts (rasa_sdk_plugins/warm_up.py): else the first patient's question took a
    second longer, and a broken document would show only then."""
    retrieval.default()
    descriptions()
    glossary.default()
    plain_versions.default()
    english_words()


def naming_words(tracker: Tracker, procedure: Procedure) -> frozenset[str]:
    """The words that described the procedure: the message's, when it named it that
    way, else its description beside the name ("the disc decompression with a needle,
    benefits?" asks about the benefits, not the needle)."""
    kb = knowledge_base.default()
    text = typed_text(tracker)
    if not procedures_in_message(kb, tracker):
        in_message = procedure.code in entity_values(tracker, DESCRIBED)
        return descriptions().naming_words(text, procedure.code) if in_message else frozenset()
    words: set[str] = set()
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "procedure" and kb.get(entity.get("value")) is procedure \
                and isinstance(entity.get("end"), int):
            beside = BESIDE_NAME.match(text[entity["end"]:])
            if beside:
                words |= descriptions().naming_words(beside.group(1), procedure.code)
    return frozenset(words)


def meaningful_words(text: str) -> list[str]:
    """The English words of `text` that say something (not "the", not keyboard noise)."""
    return [w for w in lemmas(text) if w in english_words() and w not in ENGLISH_STOP_WORDS]


def words_besides_names(tracker: Tracker) -> list[str]:
    """The message's meaningful words outside the procedure names it holds."""
    text = typed_text(tracker)
    spans = sorted((e["start"], e["end"]) for e in tracker.latest_message.get("entities") or []
                   if e.get("entity") == "procedure" and isinstance(e.get("start"), int) and isinstance(e.get("end"), int))
    for start, end in reversed(spans):
        text = text[:start] + " " + text[end:]
    return meaningful_words(text)


def mentions_code(tracker: Tracker, procedure: Procedure) -> bool:
    return any(code in typed_text(tracker) for code in procedure.codes)


def say_cannot_answer(dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker, kind: str) -> None:
    """Out of scope, not understood, or about a topic without a document: say so,
    offer what the assistant knows, and record the question for the content team."""
    other_topics = other_topics_in_message(kb, tracker)
    buttons = procedure_buttons(kb, "about_procedure")
    if other_topics:
        dispatcher.utter_message(response="utter_other_topic", topic=other_topics[0], buttons=buttons)
    else:
        response = "utter_out_of_scope" if kind == "out_of_scope" else "utter_default"
        dispatcher.utter_message(response=response, buttons=buttons)
    feedback.record(kind, intent_of(tracker), None, None, typed_text(tracker))


def plain_words_request(
    dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker, named: list[Procedure]
) -> list[EventType] | None:
    """Whatever the intent, "what's a hematoma?" or "discitis?" is a term question, and
    "simpler please" asks for the section just given (or the one named) in simpler
    words. Returns the events if it answered, None if the message is neither."""
    text = typed_text(tracker)
    if not text:
        return None
    if not named and asked_term(text, glossary.default()):
        return explain_term(dispatcher, tracker, text)
    if not asks_for_plain_words(text):
        return None
    procedure = (named or [kb.get(tracker.get_slot("procedure"))])[0]
    intent = intent_of(tracker)
    asked = intent[len(SECTION_INTENT_PREFIX):] if intent.startswith(SECTION_INTENT_PREFIX) else None
    # "what is it in plain english" is about the section on screen; "risks in simpler words" about the risks.
    if asked and (asked != OVERVIEW or named):
        key = asked
    else:
        key = tracker.get_slot("section") or OVERVIEW
    if procedure is None or (not named and not tracker.get_slot("section") and not asked):
        return None
    return simpler_words(dispatcher, kb, procedure, key)


def likely_section(tracker: Tracker) -> str | None:
    """The section question an unsure reading most likely is, if one is likely enough."""
    ranking = [i for i in tracker.latest_message.get("intent_ranking") or [] if i.get("name") != "nlu_fallback"]
    best = ranking[0] if ranking else {}
    if (best.get("name") or "").startswith(SECTION_INTENT_PREFIX) and (best.get("confidence") or 0) >= FOLLOW_UP_MIN:
        return best["name"]
    return None


def best_fitting_section(tracker: Tracker, procedure: Procedure, key: str) -> str:
    """Of the section questions the message most likely is, the one that its words and
    the classifier's confidence together make likeliest (SECTION_FIT_WEIGHT)."""
    ranking = [(i["name"][len(SECTION_INTENT_PREFIX):], i.get("confidence") or 0.0)
               for i in tracker.latest_message.get("intent_ranking") or []
               if (i.get("name") or "").startswith(SECTION_INTENT_PREFIX)][:SECTIONS_WEIGHED]
    if key not in (k for k, _ in ranking):
        return key  # not the classifier's reading (a button, a follow-up's section)
    fit = retrieval.default().section_fit(typed_text(tracker), procedure, naming_words(tracker, procedure))
    return max(ranking, key=lambda k_c: k_c[1] + SECTION_FIT_WEIGHT * fit.get(k_c[0], 0.0))[0]


def likely_follow_up(tracker: Tracker) -> str | None:
    """The section question an unsure reading most likely is, in a conversation
    already about a procedure: "will he go home the same day?" after an answer on
    the Racz procedure is a question about it, not one the assistant cannot answer.
    Else the section of that procedure's document whose words the question shares
    ("home same day?", "is there an incision"), if one does."""
    procedure = knowledge_base.default().get(tracker.get_slot("procedure"))
    if not procedure:
        return None
    if not meaningful_words(typed_text(tracker)):
        return None  # keyboard noise
    likely = likely_section(tracker)
    if likely:
        return likely
    found = retrieval.default().search(typed_text(tracker), procedure, None)
    return SECTION_INTENT_PREFIX + found.section_key if isinstance(found, Match) else None


class ActionIntroduce(Action):
    """Greeting and help: what the assistant is for and what it knows."""

    response = "utter_introduction"

    def name(self) -> str:
        return "action_introduce"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        dispatcher.utter_message(
            response=self.response, buttons=procedure_buttons(knowledge_base.default(), "about_procedure")
        )
        return []


class ActionListProcedures(ActionIntroduce):
    response = "utter_procedure_list"

    def name(self) -> str:
        return "action_list_procedures"


class ActionCannotAnswer(Action):
    """Out of scope or not understood: say so, offer what the assistant knows, record it."""

    def name(self) -> str:
        return "action_cannot_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        kb = knowledge_base.default()
        intent = intent_of(tracker)
        answered = plain_words_request(dispatcher, kb, tracker, procedures_in_message(kb, tracker))
        if answered is not None:
            return answered
        asked_about_a_symptom = tracker.latest_message.get("red_flag_conditional")
        if asked_about_a_symptom or (intent == "nlu_fallback" and any(procedures_meant(kb, tracker))):
            # Unsure what is asked, but it names one of our procedures: the pending
            # question ("its the sedation for spine imaging"), else the section it most
            # likely asks about ("compare discography and nucleoplasty recovery"), else
            # an overview. A question about a symptom ("what do I do if I get a fever?")
            # is never out of scope: when to call, then what the document says about it.
            likely = None if tracker.get_slot("awaiting_procedure") else likely_section(tracker)
            return ActionAnswerSection().answer(dispatcher, tracker, likely or intent)
        follow_up = likely_follow_up(tracker) if intent == "nlu_fallback" else None
        if follow_up:
            return ActionAnswerSection().answer(dispatcher, tracker, follow_up)
        say_cannot_answer(dispatcher, kb, tracker, "out_of_scope" if intent == "out_of_scope" else "fallback")
        return []


class ActionRecordFeedback(Action):
    """"This helped" / "This didn't help" on the last answer."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        helpful = intent_of(tracker) == "feedback_helpful"
        question, intent = self._question_answered(tracker)
        feedback.record(
            "helpful" if helpful else "unhelpful", intent,
            tracker.get_slot("procedure"), tracker.get_slot("section"), question,
        )
        dispatcher.utter_message(response="utter_feedback_thanks" if helpful else "utter_feedback_sorry")
        return []

    @staticmethod
    def _question_answered(tracker: Tracker) -> tuple[str | None, str | None]:
        """The patient's question before this feedback (skipping the feedback itself)."""
        users = [e for e in tracker.events if e.get("event") == "user"]
        for event in reversed(users[:-1]):
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if not str(intent).startswith("feedback_"):
                return event.get("text"), intent
        return None, None


class ActionAnswerSection(Action):
    """Answers from a procedure document.

    The section comes from the intent (ask_<section>); for "what about <procedure>?"
    it is the one the conversation is on. The procedure is the one named in the
    message, else the one the conversation is about; if neither, the patient is
    asked which, and their choice answers the pending question. A pointed
    question gets the bullet(s) that answer it first; a long section comes in
    parts, with "Tell me more".
    """

    def name(self) -> str:
        return "action_answer_section"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        return self.answer(dispatcher, tracker, intent_of(tracker))

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> list[EventType]:
        kb = knowledge_base.default()
        named, candidates = procedures_meant(kb, tracker)
        answered = plain_words_request(dispatcher, kb, tracker, named)
        if answered is not None:
            return answered
        if intent == "tell_me_more" and not named:
            return self._more(dispatcher, kb, tracker)

        tier = tracker.latest_message.get("red_flag_conditional")
        if tier in ("emergency", "care_team"):  # "what should I do if I get a fever?"
            dispatcher.utter_message(response=f"utter_when_to_call_{tier}")

        other_topics = other_topics_in_message(kb, tracker)
        # "Is a steroid injection an alternative?" is about our procedure's alternatives.
        if not named and not candidates and other_topics and intent != "ask_alternatives":
            say_cannot_answer(dispatcher, kb, tracker, "other_topic")
            return []

        section_key = self._section_key(kb, intent, tracker, named)
        procedures = named or [p for p in [kb.get(tracker.get_slot("procedure"))] if p and not candidates]
        if not procedures:
            dispatcher.utter_message(
                response="utter_ask_which_procedure",
                section=section_title(kb, section_key or OVERVIEW).lower(),
                buttons=procedure_buttons(kb, "switch_procedure", candidates or kb.procedures),
            )
            return [SlotSet("section", section_key or OVERVIEW), SlotSet("awaiting_procedure", True)]

        if len(procedures) == 1 and intent == SECTION_INTENT_PREFIX + (section_key or ""):
            section_key = best_fitting_section(tracker, procedures[0], section_key)
        more = None
        for procedure in procedures:
            more = self._answer(dispatcher, kb, tracker, procedure, section_key, single=len(procedures) == 1)
        return [
            SlotSet("procedure", procedures[0].code),
            SlotSet("section", section_key or OVERVIEW),
            SlotSet("awaiting_procedure", False),
            SlotSet("more_to_show", more if len(procedures) == 1 else None),
        ]

    @staticmethod
    def _section_key(kb: KnowledgeBase, intent: str, tracker: Tracker, named: list) -> str | None:
        """The section asked for; None means an overview of the procedure."""
        current = tracker.get_slot("section")
        if tracker.get_slot("awaiting_procedure") and named and not words_besides_names(tracker):
            return current or OVERVIEW  # "its the sedation for spine imaging" answers "which procedure?"
        if intent.startswith(SECTION_INTENT_PREFIX):
            key = intent[len(SECTION_INTENT_PREFIX):]
            short = len(typed_text(tracker).split()) <= ELLIPTICAL_MAX_WORDS
            if key == "duration" and not named and short and current in ELLIPTICAL_DURATION_SECTIONS:
                return current
            return key if kb.section_spec(key) else OVERVIEW
        if intent == "switch_procedure" or tracker.get_slot("awaiting_procedure"):
            return current or OVERVIEW
        return None

    def _answer(
        self, dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker,
        procedure: Procedure, section_key: str | None, single: bool,
    ) -> str | None:
        """Sends one answer; returns what "tell me more" would show next, if anything."""
        key = section_key or OVERVIEW
        question = typed_text(tracker)
        if question and single:
            naming = naming_words(tracker, procedure)
            found = retrieval.default().search(question, procedure, key, naming)
            if isinstance(found, NotInDocument):
                feedback.record("not_in_document", intent_of(tracker), procedure.code, key, question)
                # Then the closest the document comes: the section asked about, else the
                # one the question's words fit best; unless the topic is one no document
                # covers (costs, parking...).
                if not procedure.section(key):
                    key = retrieval.default().closest_section(question, procedure, naming) or OVERVIEW
                dispatcher.utter_message(
                    response="utter_not_in_document", procedure=procedure.label, topic=found.topic,
                    buttons=[] if found.in_any_document else procedure_buttons(kb, "about_procedure"),
                )
                if not found.in_any_document:
                    return None
            elif isinstance(found, Match):
                heading, lines = matched_lines(kb, found.passages)
                dispatcher.utter_message(
                    text=answer_text(procedure, heading, lines),
                    buttons=self._section_button(kb, procedure, found.section_key)
                    + [simpler_button(procedure, found.section_key)] + FEEDBACK_BUTTONS,
                )
                return None

        section = procedure.section(key)
        if section is None:
            otherwise = kb.section_spec(key).otherwise if kb.section_spec(key) else None
            if otherwise and procedure.section(otherwise):
                closest = otherwise
            else:
                closest = retrieval.default().closest_section(
                    question, procedure, naming_words(tracker, procedure)) if question else None
            dispatcher.utter_message(
                response="utter_section_not_covered_closest" if closest else "utter_section_not_covered",
                procedure=procedure.label, section=section_title(kb, key).lower(),
                buttons=[] if closest else section_buttons(kb, procedure),
            )
            feedback.record("section_not_covered", intent_of(tracker), procedure.code, key, question)
            if not closest:
                return None
            key, section = closest, procedure.section(closest)

        with_note = mentions_code(tracker, procedure) or (
            key == OVERVIEW and procedure.meta.code_status != "current"
        )
        note = procedure.meta.code_note if with_note else None
        shown, rest = split_short(section_lines(section.blocks))
        if section_key is None:  # an overview also offers the rest of the document
            buttons = [simpler_button(procedure, key), *section_buttons(kb, procedure, exclude=key)]
        else:
            buttons = ([MORE_BUTTON] if rest else []) + [simpler_button(procedure, key)] + FEEDBACK_BUTTONS
        dispatcher.utter_message(text=answer_text(procedure, section_title(kb, key), shown, note), buttons=buttons)
        return "rest" if rest else None

    @staticmethod
    def _section_button(kb: KnowledgeBase, procedure: Procedure, key: str) -> list[dict[str, Any]]:
        if not procedure.section(key):
            return []
        title = f"Show everything: {section_title(kb, key).lower()}"
        return [{"title": title, "payload": payload(f"{SECTION_INTENT_PREFIX}{key}", procedure)}]

    def _more(self, dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker) -> list[EventType]:
        """The rest of the section the last answer showed in part."""
        procedure = kb.get(tracker.get_slot("procedure"))
        key = tracker.get_slot("section")
        section = procedure.section(key) if procedure and key else None
        if section is None:
            dispatcher.utter_message(response="utter_ask_which_procedure", section="what it is",
                                     buttons=procedure_buttons(kb, "switch_procedure"))
            return [SlotSet("section", OVERVIEW), SlotSet("awaiting_procedure", True)]
        if tracker.get_slot("more_to_show") == PLAIN_REST:
            dispatcher.utter_message(text=simpler_rest(kb, procedure, key), buttons=FEEDBACK_BUTTONS)
            return [SlotSet("more_to_show", None)]
        if tracker.get_slot("more_to_show") != "rest":
            dispatcher.utter_message(response="utter_nothing_more", buttons=section_buttons(kb, procedure, exclude=key))
            return []
        _, rest = split_short(section_lines(section.blocks))
        heading = f"{section_title(kb, key)} (continued)"
        dispatcher.utter_message(text=answer_text(procedure, heading, rest),
                                 buttons=[simpler_button(procedure, key), *FEEDBACK_BUTTONS])
        return [SlotSet("more_to_show", None)]
