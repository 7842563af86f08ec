"""Rasa's SQL tracker store (SQLite or PostgreSQL), with less work per message.

endpoints.yml:  tracker_store: {type: stores.sql.SQLTrackerStore, dialect: ..., ...}

Same tables and rows as Rasa's SQLTrackerStore, so Rasa's tools and `make purge`
read them as usual. Rasa reads the whole conversation back from the database on
every message and resolves each event's class by walking the Event class tree;
with SQLite it also opens a new connection for every query. In our profile that
was a third of the Rasa server's time per message (docs/performance.md). Here:
- the conversations this process saved last stay in memory; on a message only
  the conversation's newest event id is read, and the events are read again only
  when someone else (another replica, `make purge`) changed them;
- saving writes the new events in one statement, without counting the stored ones first;
- a new conversation is written once, at the end of its first turn, not also
  when Rasa creates it (Rasa writes its first `action_listen` alone, after
  counting the events stored for it: a third of a one-message visit's tracker
  store time); the turn holds the conversation's lock, so no one else writes it;
- an event's class is looked up once per type name;
- SQLite keeps one connection open, in WAL mode with synchronous=NORMAL: a message
  is on disk before the patient gets the reply and survives a crash or kill -9 of
  the server (not a power cut in the last moments); `make purge` can read while
  the server writes.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Type

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.utils.common import all_subclasses
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import SingletonThreadPool

from stores import remote_action

RECENT_CONVERSATIONS = 1000


@lru_cache(maxsize=None)
def event_class(type_name: Text) -> Optional[Type[Event]]:
    """What Event.resolve_by_type finds, once per type name."""
    return next((cls for cls in all_subclasses(Event) if cls.type_name == type_name), None)


def deserialise(event: Dict[Text, Any]) -> Optional[Event]:
    cls = event_class(event.get("event"))
    return cls._from_parameters(event) if cls else Event.from_parameters(event)


class SQLTrackerStore(RasaSQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The hook for the action server's client and the graph runner too (Rasa 3.6 has
        # no setting for them): the one class of ours that the Rasa server creates from
        # endpoints.yml.
        remote_action.install()
        # sender id -> (id of its newest stored event, the events Rasa would read back)
        self._recent: OrderedDict[Text, tuple[int, List[Event]]] = OrderedDict()
        # Conversations found to have nothing stored, not written yet.
        self._unwritten: OrderedDict[Text, None] = OrderedDict()
        events = self.SQLEvent.__table__
        self._newest_event_id_query = sa.select(sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id"))
        if self.engine.dialect.name == "sqlite":
            self.engine.dispose()
            self.engine = sa.create_engine(self.engine.url, poolclass=SingletonThreadPool)
            sa.event.listen(self.engine, "connect", _sqlite_settings)
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        self._unwritten.pop(sender_id, None)  # read again: the database tells
        recent = self._recent.pop(sender_id, None)
        if recent is not None and self.domain and recent[0] == self._newest_event_id(sender_id):
            self._recent[sender_id] = recent  # most recently used last
            return DialogueStateTracker.from_events(sender_id, list(recent[1]), self.domain.slots)
        tracker = await super().retrieve(sender_id)
        if tracker is None:  # a new conversation: Rasa creates it and saves it at once
            self._unwritten[sender_id] = None
            if len(self._unwritten) > RECENT_CONVERSATIONS:
                self._unwritten.popitem(last=False)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        events = list(tracker.events)
        # Known only when the tracker was just read back from memory or created here
        # (Rasa holds the conversation's lock from reading to saving, so nobody wrote
        # in between).
        recent = self._recent.pop(tracker.sender_id, None)
        unwritten = tracker.sender_id in self._unwritten
        if unwritten and len(events) <= 1:
            return  # Rasa's new tracker (its first action_listen): written with the turn
        self._unwritten.pop(tracker.sender_id, None)
        with self.session_scope() as session:
            if recent is not None:
                new = events[len(recent[1]):]
            elif unwritten:
                new = events
            else:
                new = list(self._additional_events(session, tracker))
            if new:  # one statement for all rows, not the ORM's one per row
                session.execute(self.SQLEvent.__table__.insert(), [self._row(tracker.sender_id, event) for event in new])
                newest = session.execute(self._newest_event_id_query, {"sender_id": tracker.sender_id}).scalar()
            else:
                newest = recent[0] if recent else None
            session.commit()
        # A session started in this turn: Rasa reads back only the new session.
        if newest is None or any(isinstance(event, SessionStarted) for event in events[1:]):
            return
        self._recent[tracker.sender_id] = (newest, events)
        if len(self._recent) > RECENT_CONVERSATIONS:
            self._recent.popitem(last=False)

    @staticmethod
    def _row(sender_id: Text, event: Event) -> Dict[Text, Any]:
        """The row Rasa's SQLTrackerStore.save writes for `event`."""
        data = event.as_dict()
        return dict(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _newest_event_id(self, sender_id: Text) -> Optional[int]:
        # A Core statement made once: 0.08 ms a message, the ORM query 0.28 ms.
        with self.session_scope() as session:
            return session.execute(self._newest_event_id_query, {"sender_id": sender_id}).scalar()

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions).all()
            events = [deserialise(json.loads(row.data)) for row in rows]
        if not (self.domain and events):
            return None
        return DialogueStateTracker.from_events(
            sender_id, [event for event in events if event is not None], self.domain.slots
        )


def _sqlite_settings(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
