"""Forms of the supporter's plan page."""

from django import forms
from django.db.models import Max, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import Role, StaffProfile
from alliance.care.models import CareModel
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
