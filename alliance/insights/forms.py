"""Forms of the insights pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.insights.models import FeedbackKind, FeedbackStatus


class ProductFeedbackForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is it?"),
        choices=FeedbackKind.choices,
        widget=forms.RadioSelect,
        initial=FeedbackKind.PROBLEM,
    )
    text = forms.CharField(
        label=_("Tell us"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "What happened, what you expected, or what would help. Please leave "
            "out patients' names."
        ),
        error_messages={"required": _("Describe the problem or your idea.")},
    )
    page = forms.CharField(widget=forms.HiddenInput, required=False)


class TriageForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=FeedbackStatus.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
