"""The HTML forms of messaging. They only carry what was typed; the services judge it (and
their errors are put back on these forms, naming the field)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.messaging.models import MESSAGE_MAX_LENGTH
from alliance.messaging.placeholders import PLACEHOLDERS
from alliance.messaging.replytime import MAX_REPLY_TARGET, MIN_REPLY_TARGET


def apply_errors(form: forms.Form, error) -> None:
    """Put a service's ``ValidationError`` on the form, each message on its field (once:
    a required field's own message is the service's)."""
    for field, messages in error.message_dict.items():
        name = field if field in form.fields else None
        have = form.errors.get(name or forms.forms.NON_FIELD_ERRORS, [])
        fresh = [m for m in messages if m not in have]
        if fresh:
            form.add_error(name, fresh)


class MessageForm(forms.Form):
    # No maxlength on the box: a browser would cut a long paste short without a word.
    # The service refuses an over-long message, and the text stays in the box.
    body = forms.CharField(
        label=_("Your message"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 7}),
        error_messages={"required": _("Write a message.")},
    )
    client_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label is not None:
            self.fields["body"].label = label
        self.fields["body"].help_text = _("Up to %(n)s characters.") % {
            "n": f"{MESSAGE_MAX_LENGTH:,}"
        }


class TemplatePickForm(forms.Form):
    template = forms.TypedChoiceField(label=_("Start from a template"), coerce=int, choices=())

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.pk, t.title) for t in templates]


def placeholder_help() -> str:
    names = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    return _("You can use these placeholders: %(names)s.") % {"names": names}


class TemplateForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), error_messages={"required": _("Title: give the template a title.")}
    )
    body = forms.CharField(
        label=_("Text"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": _("Text: write the template's text.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = placeholder_help()


class SettingsForm(forms.Form):
    reply_target_working_days = forms.CharField(
        label=_("Reply target, in working days"),
        widget=forms.NumberInput(
            attrs={"min": MIN_REPLY_TARGET, "max": MAX_REPLY_TARGET, "inputmode": "numeric"}
        ),
        help_text=_(
            "Patients are told they will have a reply by the end of this many working days "
            "(Monday to Friday) after the day they write; later replies are flagged overdue."
        ),
    )
    risk_phrases = forms.CharField(
        label=_("Risk phrases, one a line"),
        error_messages={
            "required": _("Risk phrases: keep at least one phrase; the list protects patients.")
        },
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "A patient's message that contains one of these raises a risk alert to the care "
            "team and shows the patient the crisis information. Capitals, accents, hyphens "
            "and punctuation are ignored, and the last word also matches longer forms "
            "(“suicide” matches “suicidal”)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reply_target_working_days"].error_messages["required"] = _(
            "Reply target: enter a whole number of working days from %(low)d to %(high)d."
        ) % {"low": MIN_REPLY_TARGET, "high": MAX_REPLY_TARGET}


class SupporterChangeForm(forms.Form):
    reason = forms.CharField(
        label=_("Would you like to tell us why?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("You don't have to. Only senior members of your care team read it."),
    )
