"""The reminder settings form: a plain HTML form; its choices become the rules'
``SettingsData``, validated once, by the service, for the page and the API alike."""

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.notify import rules

PAUSE_CHOICES = [
    ("0", _("Not paused")),
    ("1", _("For today")),
    ("3", _("For 3 days")),
    ("7", _("For a week")),
    ("14", _("For 2 weeks")),
    ("30", _("For 30 days")),
]
KEEP_PAUSE = "keep"


def kind_field(kind: str, part: str) -> str:
    return f"{kind}_{part}"


class ReminderSettingsForm(forms.Form):
    all_off = forms.BooleanField(
        label=_("Turn all reminders off"),
        required=False,
        help_text=_("Nothing is sent until you turn them on again. Your choices are kept."),
    )
    channels = forms.MultipleChoiceField(
        label=_("How to remind you"),
        required=False,
        choices=[(c, rules.CHANNEL_LABELS[c]) for c in rules.PATIENT_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours end"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    max_per_day = forms.IntegerField(
        label=_("At most this many reminders a day"),
        widget=forms.NumberInput(attrs={"min": 1, "max": rules.MAX_PER_DAY_LIMIT}),
    )
    max_per_week = forms.IntegerField(
        label=_("At most this many reminders in any 7 days"),
        widget=forms.NumberInput(attrs={"min": 1, "max": rules.MAX_PER_WEEK_LIMIT}),
    )
    pause = forms.ChoiceField(label=_("Pause reminders"), choices=PAUSE_CHOICES)

    # Service errors are named as in the API; these are the form's fields for them.
    ERROR_FIELDS = {"paused_until": "pause", "reminders": None}

    def __init__(self, *args, paused_until: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.paused_until = paused_until
        if paused_until is not None:
            self.fields["pause"].choices = [
                (KEEP_PAUSE, _("Keep the pause until %(day)s") % {"day": paused_until}),
                ("0", _("Resume reminders now")),
                *PAUSE_CHOICES[1:],
            ]
        for kind in rules.KINDS:
            self.fields[kind_field(kind, "on")] = forms.BooleanField(
                label=rules.KIND_LABELS[kind], required=False
            )
            if kind not in rules.SCHEDULED_KINDS:
                continue
            self.fields[kind_field(kind, "days")] = forms.MultipleChoiceField(
                label=_("Days"),
                required=False,
                choices=[(d, rules.DAY_LABELS[d]) for d in rules.DAYS],
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[kind_field(kind, "time")] = forms.TimeField(
                label=_("Time"),
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )

    @classmethod
    def initial_from(cls, data: rules.SettingsData) -> dict:
        initial = {
            "all_off": data.all_off,
            "channels": list(data.channels),
            "quiet_start": data.quiet_start,
            "quiet_end": data.quiet_end,
            "max_per_day": data.max_per_day,
            "max_per_week": data.max_per_week,
            "pause": KEEP_PAUSE if data.paused_until else "0",
        }
        for kind, choice in data.reminders.items():
            initial[kind_field(kind, "on")] = choice.on
            initial[kind_field(kind, "days")] = list(choice.days)
            initial[kind_field(kind, "time")] = choice.at
        return initial

    def kind_rows(self):
        """Per kind, its bound fields, for the template: (kind, on, days, time)."""
        for kind in rules.KINDS:
            scheduled = kind in rules.SCHEDULED_KINDS
            yield (
                kind,
                self[kind_field(kind, "on")],
                self[kind_field(kind, "days")] if scheduled else None,
                self[kind_field(kind, "time")] if scheduled else None,
            )

    def settings_data(self, *, current: rules.SettingsData, today: date) -> rules.SettingsData:
        data = self.cleaned_data
        reminders = {}
        for kind in rules.KINDS:
            was = current.reminders.get(kind, rules.KindChoice(on=False))
            if kind in rules.SCHEDULED_KINDS:
                reminders[kind] = rules.KindChoice(
                    on=data[kind_field(kind, "on")],
                    days=tuple(data[kind_field(kind, "days")]),
                    at=data[kind_field(kind, "time")],
                )
            else:
                reminders[kind] = rules.KindChoice(on=data[kind_field(kind, "on")], days=was.days)
        pause = data["pause"]
        if pause == KEEP_PAUSE:
            paused_until = current.paused_until
        elif pause == "0":
            paused_until = None
        else:
            paused_until = today + timedelta(days=int(pause) - 1)
        return rules.SettingsData(
            reminders=reminders,
            channels=tuple(data["channels"]),
            quiet_start=data["quiet_start"],
            quiet_end=data["quiet_end"],
            max_per_day=data["max_per_day"],
            max_per_week=data["max_per_week"],
            paused_until=paused_until,
            all_off=data["all_off"],
        )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            if name.startswith("reminders.") and name.count(".") == 2:
                _prefix, kind, part = name.split(".")
                field = kind_field(kind, part)
            else:
                field = self.ERROR_FIELDS.get(name, name)
            self.add_error(field if field in self.fields else None, messages)
