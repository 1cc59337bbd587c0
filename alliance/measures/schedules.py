"""When questionnaires are due, as a pure function of an episode's facts.

The schedule, for every care model:
- PHQ-9, GAD-7 and WSAS at every treatment contact (booked or attended): open two days
  before the contact, due at its start;
- the EPDS, for a postpartum programme, at the start, the middle (when half the plan's
  modules are finished) and the end of the episode;
- the WAI-SR at the third treatment contact and at the end;
- the open-ended feedback survey three months after the end.
A copyrighted instrument (EPDS, WAI-SR) is planned only when the service holds its licence.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

EVERY_CONTACT = ("phq9", "gad7", "wsas")
OPENS_BEFORE_CONTACT = timedelta(days=2)
TIME_TO_COMPLETE = timedelta(days=7)
ALLIANCE_CONTACT_NUMBER = 3
FOLLOW_UP_AFTER_END = timedelta(days=90)
TREATMENT_STATUSES = ("scheduled", "attended")


@dataclass(frozen=True)
class ContactFact:
    id: int
    scheduled_at: datetime
    status: str


@dataclass(frozen=True)
class EpisodeFacts:
    started_at: datetime
    ended_at: datetime | None
    problems: tuple[str, ...]
    contacts: tuple[ContactFact, ...]
    # When half of the plan's modules were finished, if they have been.
    middle_reached_at: datetime | None


@dataclass(frozen=True)
class Planned:
    instrument: str
    occasion: str
    available_from: datetime
    due_at: datetime


def treatment_contacts(facts: EpisodeFacts) -> list[ContactFact]:
    contacts = [c for c in facts.contacts if c.status in TREATMENT_STATUSES]
    return sorted(contacts, key=lambda c: (c.scheduled_at, c.id))


def at_contacts(facts: EpisodeFacts) -> list[Planned]:
    return [
        Planned(code, f"contact:{c.id}", c.scheduled_at - OPENS_BEFORE_CONTACT, c.scheduled_at)
        for c in treatment_contacts(facts)
        for code in EVERY_CONTACT
    ]


def at_moment(code: str, occasion: str, when: datetime | None) -> list[Planned]:
    if when is None:
        return []
    return [Planned(code, occasion, when, when + TIME_TO_COMPLETE)]


def postpartum_epds(facts: EpisodeFacts) -> list[Planned]:
    if "postpartum" not in facts.problems:
        return []
    return (
        at_moment("epds", "start", facts.started_at)
        + at_moment("epds", "middle", facts.middle_reached_at)
        + at_moment("epds", "end", facts.ended_at)
    )


def alliance_ratings(facts: EpisodeFacts) -> list[Planned]:
    contacts = treatment_contacts(facts)
    third = (
        contacts[ALLIANCE_CONTACT_NUMBER - 1] if len(contacts) >= ALLIANCE_CONTACT_NUMBER else None
    )
    planned = at_moment("wai-sr", "end", facts.ended_at)
    if third is not None:
        planned = (
            at_moment("wai-sr", f"contact_no:{ALLIANCE_CONTACT_NUMBER}", third.scheduled_at)
            + planned
        )
    return planned


def follow_up_survey(facts: EpisodeFacts) -> list[Planned]:
    if facts.ended_at is None:
        return []
    return at_moment("feedback", "follow_up", facts.ended_at + FOLLOW_UP_AFTER_END)


def planned_questionnaires(
    facts: EpisodeFacts, *, licensed: set[str], needs_licence: set[str]
) -> list[Planned]:
    """Every questionnaire the episode should have had sent so far, or will have."""
    planned = (
        at_contacts(facts)
        + postpartum_epds(facts)
        + alliance_ratings(facts)
        + follow_up_survey(facts)
    )
    return [p for p in planned if p.instrument not in needs_licence or p.instrument in licensed]


def contact_of(occasion: str) -> int | None:
    """The contact a "contact:<id>" occasion belongs to."""
    prefix, _, rest = occasion.partition(":")
    return int(rest) if prefix == "contact" and rest.isdigit() else None
