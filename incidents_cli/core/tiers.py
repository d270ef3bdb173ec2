"""Escalation tiers: who is paged after the primary, in order, and never the same person twice.

Pure: the ``escalation`` part of oncall.yaml, the schedule and a moment go in; the path of
people to page comes out. The tiers are, in order: the primary rotation (tier 1), the
secondary (tier 2), then the optional ``tiers`` list (a rotation, a named person, a list of
people, or everyone in a rotation). They are resolved as they stood when the incident was
detected: those are the people responsible for it, and the path does not change under a
responder's feet at a hand-off. A person who was paged and did not answer is never paged
again, so a tier that would page only people already paged is skipped; past the last tier
the escalation stays there (and says so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incidents_cli.oncall import Schedule, on_call


@dataclass(frozen=True)
class Tier:
    number: int  # 1: the primary, 2: the secondary, 3...: the further tiers
    name: str  # what people call it: primary, secondary, manager, everyone, tier 4
    rotation: str | None = None  # that rotation's person on call (offset: the next ones)...
    offset: int = 0
    everyone: bool = False  # ...or every member of it
    people: tuple[str, ...] = ()  # named people


@dataclass(frozen=True)
class Step:
    """One escalation: the tier reached and the people it pages (none paged before)."""

    tier: Tier
    people: tuple[str, ...]


def tiers_from_data(escalation: Mapping[str, Any], default_primary: str | None) -> tuple[Tier, ...]:
    """The declared tiers, primary first (oncall.yaml validated beforehand)."""
    tiers: list[Tier] = []
    primary = escalation.get("primary") or default_primary
    if primary:
        tiers.append(Tier(1, "primary", rotation=str(primary)))
    secondary = escalation.get("secondary")
    if isinstance(secondary, Mapping) and secondary.get("rotation"):
        tiers.append(
            Tier(
                len(tiers) + 1,
                "secondary",
                rotation=str(secondary["rotation"]),
                offset=int(secondary.get("offset", 0)),
            )
        )
    for raw in escalation.get("tiers") or []:
        if not isinstance(raw, Mapping):
            continue
        number = len(tiers) + 1
        people = tuple(str(p) for p in raw.get("people") or ())
        if raw.get("person"):
            people = (str(raw["person"]), *people)
        tiers.append(
            Tier(
                number,
                str(raw.get("name") or f"tier {number}"),
                rotation=str(raw["rotation"]) if raw.get("rotation") else None,
                offset=int(raw.get("offset", 0)),
                everyone=bool(raw.get("everyone", False)),
                people=people,
            )
        )
    return tuple(tiers)


def paged_by(tier: Tier, schedule: Schedule, moment: datetime) -> tuple[str, ...]:
    """Who ``tier`` pages at ``moment``: its named people, then its rotation's."""
    found = list(tier.people)
    if tier.rotation is not None and tier.rotation in schedule.rotations:
        if tier.everyone:
            found += schedule.rotations[tier.rotation].members
        else:
            who = on_call(schedule, tier.rotation, moment, tier.offset)
            if who.person is not None:
                found.append(who.person)
    return tuple(dict.fromkeys(found))  # each person once, in order


def escalation_path(
    tiers: Sequence[Tier], schedule: Schedule, detected: datetime, primary: str | None
) -> list[Step]:
    """The tiers after the primary as they stood at ``detected``, each paging only people
    not paged before (``primary``: who was paged first and did not answer)."""
    paged = {primary} if primary else set()
    if primary is None and tiers and tiers[0].number == 1:
        paged.update(paged_by(tiers[0], schedule, detected))
    path = []
    for tier in tiers:
        if tier.number == 1:
            continue
        fresh = tuple(p for p in paged_by(tier, schedule, detected) if p not in paged)
        if fresh:
            path.append(Step(tier, fresh))
            paged.update(fresh)
    return path


def step_after(path: Sequence[Step], windows_missed: int) -> tuple[Step | None, bool]:
    """The step reached after ``windows_missed`` response windows without an answer (1: the
    first escalation), and whether it is the last one there is (where it stays)."""
    if not path or windows_missed < 1:
        return None, not path
    index = min(windows_missed, len(path)) - 1
    return path[index], windows_missed >= len(path)
