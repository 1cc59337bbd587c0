"""Forms of the analytics pages, also used by the API to read the same parameters: the
report's filter and a service's insight settings."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import Service, Team
from alliance.care.models import CareModel
from alliance.content.models import Programme
from alliance.insights.models import INSIGHT_SETTING_RANGES, InsightSettings
from alliance.insights.report import MAX_PERIOD_DAYS, ReportFilter, default_period


class ReportFilterForm(forms.Form):
    """The report's filter. Team, programme and care model are optional; a team must be
    one of the service's own."""

    start = forms.DateField(
        label=_("From"),
        required=False,
        help_text=_("The first day, as YYYY-MM-DD."),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        help_text=_("The last day, included."),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    team = forms.CharField(label=_("Team"), required=False, widget=forms.Select)
    programme = forms.CharField(label=_("Programme"), required=False, widget=forms.Select)
    care_model = forms.ChoiceField(
        label=_("Care model"),
        required=False,
        choices=[("", _("All care models")), *CareModel.choices],
        error_messages={"invalid_choice": _("Choose one of the care models.")},
    )

    def __init__(self, data=None, *, service: Service, today: date | None = None):
        super().__init__(data)
        self.service = service
        self.today = today or timezone.localdate()
        self.teams = list(Team.objects.filter(service=service).order_by("name"))
        self.programme_keys = sorted(
            set(Programme.objects.filter(kind="programme").values_list("key", flat=True))
        )
        self.fields["team"].widget.choices = [
            ("", _("All teams")),
            *((str(t.pk), t.name) for t in self.teams),
        ]
        self.fields["programme"].widget.choices = [
            ("", _("All programmes")),
            *((key, key) for key in self.programme_keys),
        ]

    def clean_team(self) -> Team | None:
        value = (self.cleaned_data.get("team") or "").strip()
        if not value:
            return None
        team = next((t for t in self.teams if str(t.pk) == value), None)
        if team is None:
            raise forms.ValidationError(_("Choose a team of your service."))
        return team

    def clean_programme(self) -> str:
        value = (self.cleaned_data.get("programme") or "").strip()
        if value and value not in self.programme_keys:
            raise forms.ValidationError(_("There is no programme with this key."))
        return value

    def clean(self):
        cleaned = super().clean()
        default_start, default_end = default_period(self.today)
        start = cleaned.get("start") or default_start
        end = cleaned.get("end") or default_end
        if "start" in self.errors or "end" in self.errors:
            return cleaned
        if end < start:
            self.add_error("end", _("The end date is before the start date."))
        elif (end - start).days > MAX_PERIOD_DAYS:
            self.add_error("end", _("Choose a period of at most five years."))
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def report_filter(self) -> ReportFilter:
        """The filter, once the form is valid."""
        data = self.cleaned_data
        return ReportFilter(
            service=self.service,
            start=data["start"],
            end=data["end"],
            team=data["team"],
            programme=data["programme"],
            care_model=data["care_model"],
        )


def _range_hint(name: str) -> str:
    low, high = INSIGHT_SETTING_RANGES[name]
    return _("From %(low)s to %(high)s.") % {"low": low, "high": high}


class InsightSettingsForm(forms.Form):
    """A service's thresholds. The ranges are checked by ``insight_settings_update``, so a
    page, the API and any script refuse the same values with the same message."""

    inactivity_days = forms.IntegerField(label=_("Alert after this many days without activity"))
    rupture_k = forms.FloatField(label=_("Rupture: a drop of at least this many SDs"))
    rupture_sample_sd = forms.FloatField(
        label=_("Rupture: SD of session-to-session change in the WAI-SR mean")
    )
    rupture_repair_window = forms.IntegerField(
        label=_("Rupture: ratings within which it counts as repaired")
    )
    rupture_min_sessions = forms.IntegerField(
        label=_("Rupture: ratings before the patient's own SD counts")
    )
    missed_in_a_row = forms.IntegerField(label=_("Alert after this many missed contacts in a row"))
    review_overdue_days = forms.IntegerField(label=_("Alert when a review is this many days late"))
    deterioration_alerts = forms.BooleanField(
        label=_("Alert when the PHQ-9 or GAD-7 is reliably worse"), required=False
    )

    def __init__(self, data=None, *, settings: InsightSettings):
        initial = {name: getattr(settings, name) for name in self.base_fields}
        super().__init__(data, initial=initial)
        for name, field in self.fields.items():
            if name in INSIGHT_SETTING_RANGES:
                field.help_text = _range_hint(name)
                field.error_messages["invalid"] = _("Enter a number.")
                field.error_messages["required"] = _("Enter a number.")
