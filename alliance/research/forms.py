"""Forms of the research pages. They only parse input; the services hold the rules."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from alliance.research.models import MemberRole


def add_service_errors(form: forms.Form, error: ValidationError, default: str | None = None):
    """Put a service's ValidationError on the form field it names (or on ``default``)."""
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else default
        form.add_error(target, messages)


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read this and I agree to my answers being used for research"),
        error_messages={"required": _("Tick the box to agree, or leave the page.")},
    )


class ProjectForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The research question, for the coders."),
    )
    instruments = forms.MultipleChoiceField(
        label=_("Questionnaires"), widget=forms.CheckboxSelectMultiple
    )
    questions = forms.MultipleChoiceField(
        label=_("Questions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to take every open question of the questionnaires."),
    )
    period_start = forms.DateField(
        label=_("Answers from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The first day, in your service's time zone. Leave empty for no limit."),
    )
    period_end = forms.DateField(
        label=_("Answers until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last day, included."),
    )
    programmes = forms.MultipleChoiceField(
        label=_("Programmes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to take answers whatever the programme."),
    )
    blind = forms.BooleanField(
        label=_("Blind coding: coders cannot see each other's codings until reconciliation"),
        required=False,
        initial=True,
    )
    coders = forms.MultipleChoiceField(
        label=_("Coders to invite"), required=False, widget=forms.CheckboxSelectMultiple
    )
    starter = forms.ChoiceField(
        label=_("Start the codebook with"), required=False, widget=forms.RadioSelect
    )

    def __init__(self, *args, instruments, questions, programmes, coders, starters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instruments"].choices = instruments
        self.fields["questions"].choices = questions
        self.fields["programmes"].choices = programmes
        self.fields["coders"].choices = coders
        self.fields["starter"].choices = [("", _("An empty codebook")), *starters]


class MemberForm(forms.Form):
    staff_id = forms.TypedChoiceField(label=_("Researcher"), coerce=int)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (MemberRole.CODER, _("Coder")),
            (MemberRole.ADJUDICATOR, _("Adjudicator (decides disagreements)")),
        ],
    )

    def __init__(self, *args, researchers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff_id"].choices = researchers


class StatusForm(forms.Form):
    status = forms.CharField()


class CodeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    parent = forms.TypedChoiceField(label=_("Inside"), required=False, coerce=int, empty_value=None)
    definition = forms.CharField(
        label=_("Definition"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    when_to_use = forms.CharField(
        label=_("When to use"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    when_not_to_use = forms.CharField(
        label=_("When not to use"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    example = forms.CharField(
        label=_("Example"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    colour = forms.CharField(
        label=_("Colour"),
        max_length=7,
        initial="#1F5F63",
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    is_codable = forms.BooleanField(
        label=_("Coders can apply this code (untick for a code that only groups others)"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, parents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("(top level)")), *parents]


class StarterForm(forms.Form):
    starter = forms.ChoiceField(label=_("Starter codebook"), widget=forms.RadioSelect)

    def __init__(self, *args, starters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starter"].choices = starters


class FileForm(forms.Form):
    file = forms.FileField(label=_("File"))


class CodingForm(forms.Form):
    codes = forms.TypedMultipleChoiceField(
        label=_("Codes"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    start = forms.IntegerField(
        label=_("Start"),
        required=False,
        min_value=0,
        help_text=_("The position of the first character, counted from 0."),
    )
    end = forms.IntegerField(
        label=_("End"),
        required=False,
        min_value=1,
        help_text=_("The position just after the last character."),
    )
    quote = forms.CharField(
        label=_("Or quote the exact words"),
        required=False,
        max_length=5000,
        help_text=_("Copy the passage here instead of giving positions."),
    )
    whole = forms.BooleanField(label=_("Or code the whole response"), required=False)
    memo = forms.CharField(
        label=_("Memo"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why you coded it so, for yourself and for reconciliation."),
    )

    def __init__(self, *args, codes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["codes"].choices = codes


class DecideForm(forms.Form):
    applied = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Apply the code")), ("no", _("Do not apply the code"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    passage = forms.ChoiceField(label=_("Passage"), required=False, widget=forms.RadioSelect)
    start = forms.IntegerField(label=_("Start"), required=False, min_value=0)
    end = forms.IntegerField(label=_("End"), required=False, min_value=1)
    quote = forms.CharField(label=_("Or quote the exact words"), required=False, max_length=5000)
    reason = forms.CharField(
        label=_("Why"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why you decided this.")},
    )

    def __init__(self, *args, passages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["passage"].choices = [*passages, ("other", _("Another passage (below)"))]


class ThemeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    codes = forms.TypedMultipleChoiceField(
        label=_("Codes in this theme"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, codes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["codes"].choices = codes
