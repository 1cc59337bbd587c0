"""The questionnaire form, built from the instrument's definition."""

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.measures.instruments import Instrument
from alliance.measures.services import answer_field


class QuestionnaireForm(forms.Form):
    """One radio group per item (or a text box per open question), and the difficulty
    question where the instrument has one. Blank answers are allowed here: a part-done
    questionnaire may be saved; the service refuses an incomplete one on submission."""

    def __init__(self, *args, instrument: Instrument, supporter_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            text = item.text.replace("{supporter}", supporter_name or _("my supporter"))
            if item.type == "text":
                self.fields[item.key] = forms.CharField(
                    label=f"{item.number}. {text}",
                    required=False,
                    max_length=5000,
                    widget=forms.Textarea(attrs={"rows": 4}),
                )
            else:
                self.fields[answer_field(item.number)] = forms.ChoiceField(
                    label=f"{item.number}. {text}",
                    required=False,
                    choices=[(o.value, o.label) for o in item.options],
                    widget=forms.RadioSelect,
                )
        if instrument.difficulty is not None:
            self.fields["difficulty"] = forms.ChoiceField(
                label=instrument.difficulty.text,
                required=False,
                choices=[(o.value, o.label) for o in instrument.difficulty.options],
                widget=forms.RadioSelect,
            )

    def answers(self) -> list:
        return [
            self.cleaned_data.get(answer_field(i.number)) or None
            for i in self.instrument.items
            if i.type != "text"
        ]

    def text_answers(self) -> dict:
        return {
            i.key: self.cleaned_data.get(i.key, "")
            for i in self.instrument.items
            if i.type == "text"
        }

    def difficulty(self):
        return self.cleaned_data.get("difficulty") or None

    @classmethod
    def initial_from_draft(cls, instrument: Instrument, draft: dict | None) -> dict:
        if not draft:
            return {}
        initial = dict(draft.get("text_answers") or {})
        scored = [i for i in instrument.items if i.type != "text"]
        for item, value in zip(scored, draft.get("answers") or [], strict=False):
            if value is not None:
                initial[answer_field(item.number)] = str(value)
        if draft.get("difficulty") is not None:
            initial["difficulty"] = str(draft["difficulty"])
        return initial


class SendQuestionnaireForm(forms.Form):
    instrument = forms.ChoiceField(label=_("Questionnaire"))

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = choices


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("What you did"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For example: phoned the patient, agreed a safety plan, told the duty clinician."
        ),
        error_messages={"required": _("Write what you did about this alert.")},
    )
