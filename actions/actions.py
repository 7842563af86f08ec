"""Custom actions: answers drawn from the knowledge base, nothing else."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_base
from actions.answers import section_answer, section_titles
from actions.knowledge_base import KnowledgeBase, Procedure

SECTION_INTENT_PREFIX = "ask_"
OVERVIEW = "summary"  # what "tell me about X" shows first


def payload(intent: str, procedure: Procedure) -> str:
    return f"/{intent}{json.dumps({'procedure': procedure.code})}"


def procedure_buttons(kb: KnowledgeBase, intent: str) -> list[dict[str, str]]:
    return [
        {"title": p.name[0].upper() + p.name[1:], "payload": payload(intent, p)}
        for p in kb.procedures
    ]


def section_buttons(kb: KnowledgeBase, procedure: Procedure, exclude: str = "") -> list[dict[str, str]]:
    return [
        {"title": title, "payload": payload(f"{SECTION_INTENT_PREFIX}{key}", procedure)}
        for key, title in section_titles(kb, procedure, exclude)
    ]


def procedures_in_message(kb: KnowledgeBase, tracker: Tracker) -> list[Procedure]:
    """Known procedures named in the latest message, in order, without repeats.

    Unknown values (say, typed by hand as "/ask_risks{"procedure": "x"}") are ignored.
    """
    found: list[Procedure] = []
    for entity in tracker.latest_message.get("entities") or []:
        procedure = kb.get(entity.get("value")) if entity.get("entity") == "procedure" else None
        if procedure and procedure not in found:
            found.append(procedure)
    return found


def mentions_code(tracker: Tracker, procedure: Procedure) -> bool:
    """Whether the patient typed one of the procedure's codes (a button payload does not count)."""
    text = tracker.latest_message.get("text") or ""
    return not text.startswith("/") and any(code in text for code in procedure.codes)


class ActionIntroduce(Action):
    """Greeting and help: what the assistant is for and what it knows."""

    def name(self) -> str:
        return "action_introduce"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        kb = knowledge_base.default()
        dispatcher.utter_message(
            response="utter_introduction",
            buttons=procedure_buttons(kb, "about_procedure"),
        )
        return []


class ActionListProcedures(Action):
    def name(self) -> str:
        return "action_list_procedures"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        kb = knowledge_base.default()
        dispatcher.utter_message(
            response="utter_procedure_list",
            buttons=procedure_buttons(kb, "about_procedure"),
        )
        return []


class ActionAnswerSection(Action):
    """Answers a section of a procedure document.

    The section comes from the intent (ask_<section>); for "what about <procedure>?"
    it is the one the conversation is on. The procedure is the one named in the
    message, else the one the conversation is about; if neither, the patient is
    asked which, and their choice answers the pending question.
    """

    def name(self) -> str:
        return "action_answer_section"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        kb = knowledge_base.default()
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        section_key = self._section_key(kb, intent, tracker)
        procedures = procedures_in_message(kb, tracker)
        if not procedures:
            current = kb.get(tracker.get_slot("procedure"))
            procedures = [current] if current else []

        if not procedures:
            dispatcher.utter_message(
                response="utter_ask_which_procedure",
                section=self._title(kb, section_key or OVERVIEW).lower(),
                buttons=procedure_buttons(kb, "switch_procedure"),
            )
            return [SlotSet("section", section_key or OVERVIEW), SlotSet("awaiting_procedure", True)]

        for procedure in procedures:
            self._answer(dispatcher, kb, tracker, procedure, section_key)
        return [
            SlotSet("procedure", procedures[0].code),
            SlotSet("section", section_key or OVERVIEW),
            SlotSet("awaiting_procedure", False),
        ]

    @staticmethod
    def _section_key(kb: KnowledgeBase, intent: str, tracker: Tracker) -> str | None:
        """The section asked for; None means an overview of the procedure."""
        if intent.startswith(SECTION_INTENT_PREFIX):
            key = intent[len(SECTION_INTENT_PREFIX):]
            return key if kb.section_spec(key) else OVERVIEW
        if intent == "switch_procedure" or tracker.get_slot("awaiting_procedure"):
            return tracker.get_slot("section") or OVERVIEW
        return None

    @staticmethod
    def _title(kb: KnowledgeBase, key: str) -> str:
        spec = kb.section_spec(key)
        return spec.title if spec else key

    def _answer(
        self,
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        tracker: Tracker,
        procedure: Procedure,
        section_key: str | None,
    ) -> None:
        key = section_key or OVERVIEW
        section = procedure.section(key)
        if section is None:
            dispatcher.utter_message(
                response="utter_section_not_covered",
                procedure=procedure.label,
                section=self._title(kb, key).lower(),
                buttons=section_buttons(kb, procedure),
            )
            return
        with_note = mentions_code(tracker, procedure) or (
            key == OVERVIEW and procedure.meta.code_status != "current"
        )
        text = section_answer(kb, procedure, section, with_note)
        # An overview also offers the rest of the document.
        buttons = section_buttons(kb, procedure, exclude=key) if section_key is None else []
        dispatcher.utter_message(text=text, buttons=buttons)
