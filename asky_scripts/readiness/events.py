"""Reading Events of both APIs (core/v1 and events.k8s.io): which object, when, how often, what."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from asky_scripts.cluster.objects import Obj, field, meta, name_of, uid_of


def events_about(events: Iterable[Obj], obj: Obj) -> list[Obj]:
    """The events whose involvedObject (core/v1) or regarding (events.k8s.io) is ``obj``."""
    uid, name = uid_of(obj), name_of(obj)
    found = []
    for event in events:
        ref = event.get("involvedObject") or event.get("regarding") or {}
        if (ref.get("uid") and ref.get("uid") == uid) or (
            not ref.get("uid") and ref.get("name") == name and ref.get("kind") == obj.get("kind")
        ):
            found.append(event)
    return found


def event_time(event: Obj) -> str:
    return str(
        event.get("lastTimestamp")
        or field(event, "series").get("lastObservedTime")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or meta(event).get("creationTimestamp")
        or ""
    )


def event_count(event: Obj) -> int:
    return int(field(event, "series").get("count") or event.get("count") or 1)


def event_message(event: Obj) -> str:
    return str(event.get("message") or event.get("note") or "")


def latest_event(events: Iterable[Obj], obj: Obj, reasons: Sequence[str]) -> Obj | None:
    matching = [e for e in events_about(events, obj) if e.get("reason") in reasons]
    return max(matching, key=event_time) if matching else None
