"""Forms of the supporter's pages: the plan, reviews, contacts and the review schedule.

The forms read what was typed; the rules (lengths, the past, overlaps, ranges) are the
services', whose messages are put back on the field they name.
"""

import uuid
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import Role, StaffProfile
from alliance.care import reviews as review_rules
from alliance.care.models import CareModel, ContactKind, ContactStatus
from alliance.content.models import Module, Programme, ProgrammeKind


def newest_versions(kind: str):
    """The newest loaded version of every programme of ``kind`` (one query)."""
    newest = (
        Programme.objects.filter(key=OuterRef("key"))
        .values("key")
        .annotate(v=Max("version"))
        .values("v")
    )
    return Programme.objects.filter(kind=kind, version=Subquery(newest)).order_by("title")


class EpisodeStartForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=Programme.objects.none())
    care_model = forms.ChoiceField(label=_("Care model"), choices=CareModel.choices)
    supporter = forms.ModelChoiceField(
        label=_("Named supporter"), queryset=StaffProfile.objects.none(), required=False
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = newest_versions(ProgrammeKind.PROGRAMME)
        self.fields["supporter"].queryset = StaffProfile.objects.filter(
            service_id=patient.service_id, role=Role.SUPPORTER, teams=patient.team_id
        ).select_related("user")
        self.fields["supporter"].label_from_instance = lambda s: s.user.display_name
        self.initial.setdefault("supporter", patient.supporter_id)


class AddonForm(forms.Form):
    module = forms.ModelChoiceField(label=_("Add-on module"), queryset=Module.objects.none())

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        in_plan = episode.assignments.values_list("module__key", flat=True)
        self.fields["module"].queryset = (
            Module.objects.filter(programme__in=newest_versions(ProgrammeKind.ADDON))
            .exclude(key__in=in_plan)
            .select_related("programme")
            .order_by("programme__title", "position")
        )
        self.fields["module"].label_from_instance = lambda m: f"{m.programme.title}: {m.title}"


class HomeworkForm(forms.Form):
    text = forms.CharField(
        label=_("Homework"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write the homework.")},
    )
    due_date = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def add_service_errors(form: forms.Form, error: ValidationError, rename=None) -> None:
    """Put a service's field errors on the form's fields (``rename`` maps service field
    names to form field names); the rest go to the top of the form."""
    rename = rename or {}
    for name, messages in error.message_dict.items():
        name = rename.get(name, name)
        form.add_error(name if name in form.fields else None, messages)


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ReviewForm(forms.Form):
    feedback = forms.CharField(
        label=_("Feedback to the patient"),
        required=False,
        help_text=_("The patient reads this. It is sent as a message, or shown on their week."),
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    next_steps = forms.CharField(
        label=_("Next steps"),
        required=False,
        help_text=_("What you agreed the patient will do next. Shown on their week."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    homework = forms.CharField(
        label=_("Homework"),
        required=False,
        help_text=_("One item per line. Each appears in the patient's week."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    minutes_spent = forms.CharField(
        label=_("Minutes spent"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "narrow-input"}),
    )

    def __init__(self, *args, minutes_so_far: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes_spent"].help_text = _(
            "Leave empty to record the time since you opened this review "
            "(%(n)d so far, counted up to %(cap)d minutes)."
        ) % {"n": minutes_so_far, "cap": review_rules.MAX_COUNTED_MINUTES}

    @property
    def homework_items(self) -> list[str]:
        return lines(self.cleaned_data.get("homework", ""))


class ReviewStartForm(forms.Form):
    anyway = forms.BooleanField(
        label=_("Review now anyway"),
        required=False,
        help_text=_("The patient is not due a review yet. Tick this to start one now."),
    )


class ContactBookForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of contact"), choices=ContactKind.choices)
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Give the date."), "invalid": _("Give a real date.")},
    )
    time = forms.TimeField(
        label=_("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": _("Give the time."),
            "invalid": _("Give the time as hours and minutes, like 14:30."),
        },
    )
    duration_minutes = forms.CharField(
        label=_("Length in minutes"),
        initial="30",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "narrow-input"}),
        error_messages={"required": _("Give how long the contact will take.")},
    )
    client_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time"].help_text = _("In your time zone (%(zone)s).") % {
            "zone": timezone.get_current_timezone_name()
        }
        self.initial.setdefault("client_key", uuid.uuid4().hex)

    def clean(self):
        data = super().clean()
        day, at = data.get("date"), data.get("time")
        if day is None or at is None:
            return data
        zone = timezone.get_current_timezone()
        naive = datetime.combine(day, at)
        aware = timezone.make_aware(naive, zone)
        # A time the clocks skip (spring forward) does not exist on that day.
        if timezone.localtime(aware, zone).replace(tzinfo=None) != naive:
            self.add_error("time", _("The clocks change at this time on that day. Choose another."))
            return data
        data["scheduled_at"] = aware
        return data

    def service_error_field(self, name: str) -> str:
        """A problem with the moment as a whole belongs to the date when the day is gone,
        else to the time."""
        if name != "scheduled_at":
            return name
        day = self.cleaned_data.get("date")
        return "date" if day and day < timezone.localdate() else "time"


class ContactOutcomeForm(forms.Form):
    status = forms.ChoiceField(
        label=_("How did it go?"),
        choices=[
            (ContactStatus.ATTENDED, _("Attended")),
            (ContactStatus.DID_NOT_ATTEND, _("Did not attend")),
            (ContactStatus.CANCELLED, _("Cancelled")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose attended, did not attend or cancelled.")},
    )
    notes = forms.CharField(
        label=_("Contact notes"),
        required=False,
        help_text=_("For the care team. The patient does not see them."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    minutes_spent = forms.CharField(
        label=_("Minutes spent"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "narrow-input"}),
    )
    homework = forms.CharField(
        label=_("Homework set in the session"),
        required=False,
        help_text=_("One item per line. Each appears in the patient's plan and week."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, duration: int = 30, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes_spent"].help_text = _(
            "Leave empty to record the booked %(n)d minutes for an attended contact."
        ) % {"n": duration}

    @property
    def homework_items(self) -> list[str]:
        return lines(self.cleaned_data.get("homework", ""))


class ReviewScheduleForm(forms.Form):
    """Days between reviews, one field per care model."""

    def __init__(self, *args, current: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in CareModel.choices:
            self.fields[value] = forms.CharField(
                label=label,
                initial=str(current.get(value, review_rules.interval_days(value))),
                help_text=_("Days between reviews (%(low)d to %(high)d).")
                % {"low": review_rules.MIN_INTERVAL_DAYS, "high": review_rules.MAX_INTERVAL_DAYS},
                widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "narrow-input"}),
                error_messages={"required": _("Give the days between reviews.")},
            )
