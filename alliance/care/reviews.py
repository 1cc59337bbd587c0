"""The rules of reviews, as pure functions: when a review is due, the time it took, and the
feedback templates a supporter can start from.

**When a review is due.** Each service sets, per care model, how many days pass between
reviews (``ReviewSchedule``; without one the defaults below). An active episode is due a
review once that many days have passed since its last *completed* review, by anyone in the
care team; an episode never reviewed is due that many days after it started. A review that
is open but not done does not count: the episode stays due until someone marks one done.

**Time spent** is recorded without extra clicks: from opening the review page to marking
the review done, rounded up to whole minutes and capped at ``MAX_COUNTED_MINUTES`` (a page
left open over lunch should not count as an hour of support). The supporter may type the
real figure instead, up to ``MAX_MINUTES``.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DEFAULT_INTERVAL_DAYS = {
    "guided_self_help": 7,
    "blended": 14,
    "messaging": 7,
}
MIN_INTERVAL_DAYS = 1
MAX_INTERVAL_DAYS = 90

MAX_COUNTED_MINUTES = 60
MAX_MINUTES = 240


def interval_days(care_model: str, configured: dict[str, int] | None = None) -> int:
    """The days between reviews for ``care_model``: the service's choice, else the default."""
    if configured and care_model in configured:
        return configured[care_model]
    return DEFAULT_INTERVAL_DAYS.get(care_model, 7)


def review_due_at(
    *, started_at: datetime, last_reviewed_at: datetime | None, interval: int
) -> datetime:
    """When the next review is due: ``interval`` days after the last one, or the start."""
    return (last_reviewed_at or started_at) + timedelta(days=interval)


def minutes_between(opened_at: datetime, completed_at: datetime) -> int:
    """Minutes from opening to completing, rounded up, at least 1, at most the cap."""
    seconds = max((completed_at - opened_at).total_seconds(), 0)
    return min(max(math.ceil(seconds / 60), 1), MAX_COUNTED_MINUTES)


@dataclass(frozen=True)
class FeedbackTemplate:
    key: str
    title: str | Promise
    body: str | Promise


# Written to sound like a person: warm, normalising, and inviting the patient to reflect
# and to look after themselves (what the postpartum seed's participants valued in coaches).
# Placeholders, as in messaging's templates: {patient_first_name}, {supporter_name}; and
# {modules_done} the modules finished since the last review.
FEEDBACK_TEMPLATES = (
    FeedbackTemplate(
        "progress",
        _("Encouraging progress"),
        _(
            "Hi {patient_first_name},\n\n"
            "I've had a look at what you've done since we were last in touch. You finished "
            "{modules_done}, and that takes real commitment when life is busy. Well done.\n\n"
            "What did you notice about yourself while you were working on it? It can help "
            "to jot down one thing that stood out for you.\n\n"
            "Keep looking after yourself this week, even in small ways. I'm here if "
            "anything comes up.\n\n"
            "{supporter_name}"
        ),
    ),
    FeedbackTemplate(
        "quiet_week",
        _("After a quiet week"),
        _(
            "Hi {patient_first_name},\n\n"
            "I noticed things have been a bit quieter on the programme lately. That's "
            "completely normal: most people find their pace goes up and down, and there is "
            "no catching up to do.\n\n"
            "When you have ten minutes, you could pick up where you left off. Is anything "
            "getting in the way that I could help with?\n\n"
            "Take care,\n"
            "{supporter_name}"
        ),
    ),
    FeedbackTemplate(
        "thoughts",
        _("Reflecting on thoughts"),
        _(
            "Hi {patient_first_name},\n\n"
            "Thank you for writing down some of your thoughts. It isn't easy to look at "
            "difficult thoughts on paper, and you did it. I was struck by how you began to "
            "find a more balanced way of seeing things.\n\n"
            "This week you could try catching one more of those thoughts when it shows up, "
            "and asking yourself what you would say to a friend who had it.\n\n"
            "Be kind to yourself too.\n\n"
            "{supporter_name}"
        ),
    ),
    FeedbackTemplate(
        "self_care",
        _("Making room for self-care"),
        _(
            "Hi {patient_first_name},\n\n"
            "It sounds like a lot has been asked of you lately, and you are still showing "
            "up for this. Looking after yourself is part of the work, not a break from it.\n\n"
            "Could you plan one small thing this week that is just for you: a walk, a call "
            "with someone you like, ten quiet minutes? Notice how you feel before and "
            "after.\n\n"
            "I'm looking forward to hearing how it goes.\n\n"
            "{supporter_name}"
        ),
    ),
)

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Put ``values`` into ``{placeholders}``; an unknown placeholder is left as written,
    so the supporter sees it and can fill it in by hand."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def modules_phrase(titles: list[str]) -> str:
    """“Module A”, “Module A and Module B”, “A, B and C”; “some of your work” for none."""
    quoted = [f"“{t}”" for t in titles]
    if not quoted:
        return str(_("some of your work"))
    if len(quoted) == 1:
        return quoted[0]
    return str(_("%(list)s and %(last)s") % {"list": ", ".join(quoted[:-1]), "last": quoted[-1]})
