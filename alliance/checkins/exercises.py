"""The exercises a patient fills in: their keys, titles and field rules.

(Stub: the keys are the interface the content loader relies on; the definitions are
being written.)
"""

from django.utils.translation import gettext_lazy as _

EXERCISE_TITLES = {
    "activity_plan": _("Activity plan"),
    "thought_record": _("Thought record"),
    "goal_plan": _("Goal and action plan"),
    "problem_solving": _("Problem-solving worksheet"),
    "journal": _("Reflection journal"),
}
EXERCISE_KEYS = tuple(EXERCISE_TITLES)
