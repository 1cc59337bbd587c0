"""Support pages: a supporter's caseload in triage order, the pre-session brief, and a
supervisor's view of their teams' caseloads, with moving a patient to another supporter
and deciding a patient's request for a different one."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts import policy
from alliance.accounts.models import Patient, Role
from alliance.care.models import CareModel
from alliance.insights import brief as briefs
from alliance.insights import caseload as caseloads
from alliance.lib import charts
from alliance.measures.instruments import builtin_instruments

# --- Presentation ------------------------------------------------------------------------


def trend_sparkline(trend, name: str, y_max: int):
    return charts.sparkline(
        list(trend.recent), label=_("%(name)s trend") % {"name": name}, y_min=0, y_max=y_max
    )


def measure_names() -> dict[str, tuple[str, int]]:
    instruments = builtin_instruments()
    return {
        code: (instruments[code].name, instruments[code].total_range[1])
        for code in caseloads.TRACKED_MEASURES
        if code in instruments
    }


class RowTexts:
    """The words of the caseload table, translated once per request (not once per row)."""

    def __init__(self, names: dict, templates: list):
        self.names, self.templates = names, templates
        self.columns = {
            "patient": _("Patient"),
            "needs": _("Needs"),
            "status": _("Status"),
            "activity": _("Latest activity"),
            "next": _("Next contact"),
            "minutes": _("Minutes per week"),
            "open": _("Open"),
        }
        self.since = _("since %(when)s")
        self.waiting = _("Waiting to start")
        self.ended = _("Episode ended")
        self.no_supporter = _("no named supporter")
        self.link = _("%(page)s: %(name)s")
        self.move = _("Move %(name)s to another supporter")
        self.move_path = reverse("support:reassign", args=[0]).replace("/0/", "/{id}/")
        self.worse, self.better = _("reliably worse"), _("reliably better")
        self.care_models = dict(CareModel.choices)


def when(value, pattern: str) -> str:
    return formats.date_format(timezone.localtime(value), pattern)


def row_view(row: caseloads.CaseloadRow, texts: RowTexts) -> dict:
    """Everything the caseload table shows of a row, as text ready to print."""
    patient, episode = row.patient, row.episode
    name = patient.user.full_name
    scores = []
    for code, (measure, y_max) in texts.names.items():
        trend = row.scores.get(code)
        change = trend.change if trend else None
        scores.append(
            {
                "name": measure,
                "latest": trend.latest if trend else None,
                "change": {"deterioration": texts.worse, "improvement": texts.better}.get(change),
                "change_class": "change-bad" if change == "deterioration" else "change-good",
                "svg": trend_sparkline(trend, measure, y_max) if trend else "",
            }
        )
    if row.status == "active":
        status = str(texts.care_models.get(episode.care_model, episode.care_model))
        status_hint = texts.since % {"when": when(episode.started_at, "j M Y")}
    else:
        status, status_hint = (texts.waiting if row.status == "waiting" else texts.ended), ""
    links = caseloads.patient_links(patient.pk, templates=texts.templates)
    supporter = patient.supporter.user.display_name if patient.supporter else texts.no_supporter
    return {
        "row": row,
        "name": name,
        "href": links[0][2],
        "team_line": f"{patient.team.name} · {supporter}",
        "reasons": row.reasons,
        "risk": row.risk,
        "status": status,
        "status_hint": status_hint,
        "activity": when(row.last_activity_at, "j M Y") if row.last_activity_at else "",
        "next": when(row.next_contact_at, "D j M, H:i") if row.next_contact_at else "",
        "scores": scores,
        "links": [
            (label, href, texts.link % {"page": label, "name": name}) for _k, label, href in links
        ],
        "move_href": texts.move_path.format(id=patient.pk),
        "move_label": texts.move % {"name": name},
        "tier_class": TIER_CLASSES.get(row.tier, ""),
    }


# A coloured edge on the row (the words in the "Needs" column say the same).
TIER_CLASSES = {
    caseloads.Tier.RISK: "tier-risk",
    caseloads.Tier.MESSAGES_OVERDUE: "tier-urgent",
    caseloads.Tier.REVIEW_DUE: "tier-urgent",
    caseloads.Tier.DETERIORATION: "tier-watch",
    caseloads.Tier.INACTIVE: "tier-watch",
    caseloads.Tier.OTHER_ALERT: "tier-watch",
}


FILTER_LABELS = {
    "scope": {"mine": gettext_lazy("My patients"), "team": gettext_lazy("All my teams' patients")},
    "status": {
        "all": gettext_lazy("Any"),
        "active": gettext_lazy("In an episode"),
        "waiting": gettext_lazy("Waiting to start"),
        "ended": gettext_lazy("Episode ended"),
    },
    "need": {
        "all": gettext_lazy("Everyone"),
        "attention": gettext_lazy("Needs attention"),
        "risk": gettext_lazy("Risk alert"),
        "messages": gettext_lazy("Messages waiting"),
        "review": gettext_lazy("Review due"),
        "deterioration": gettext_lazy("Getting worse"),
        "inactive": gettext_lazy("Inactive"),
    },
    "sort": {
        "triage": gettext_lazy("Triage order"),
        "name": gettext_lazy("Name"),
        "last_activity": gettext_lazy("Latest activity"),
        "next_contact": gettext_lazy("Next contact"),
        "phq9": gettext_lazy("PHQ-9, highest first"),
        "gad7": gettext_lazy("GAD-7, highest first"),
    },
}
FILTER_TITLES = {
    "scope": gettext_lazy("Patients"),
    "status": gettext_lazy("Status"),
    "need": gettext_lazy("Show"),
    "sort": gettext_lazy("Sort by"),
}


TIER_LABELS = {
    caseloads.Tier.RISK: gettext_lazy("risk alert"),
    caseloads.Tier.MESSAGES_OVERDUE: gettext_lazy("reply overdue"),
    caseloads.Tier.REVIEW_DUE: gettext_lazy("review due"),
    caseloads.Tier.DETERIORATION: gettext_lazy("getting worse"),
    caseloads.Tier.INACTIVE: gettext_lazy("inactive"),
    caseloads.Tier.OTHER_ALERT: gettext_lazy("other alert"),
    caseloads.Tier.REST: gettext_lazy("nothing urgent"),
}


def tier_summary(found: caseloads.Caseload) -> list[tuple[int, str]]:
    """How many patients are in each tier (the non-empty ones), most urgent first."""
    return [(n, str(TIER_LABELS[tier])) for tier, n in sorted(found.tier_counts.items()) if n]


def filter_fields(wanted: caseloads.CaseloadFilter, errors: dict) -> list[dict]:
    return [
        {
            "name": name,
            "title": FILTER_TITLES[name],
            "value": getattr(wanted, name),
            "choices": [(value, label) for value, label in labels.items()],
            "errors": errors.get(name, []),
        }
        for name, labels in FILTER_LABELS.items()
    ]


def page_href(wanted: caseloads.CaseloadFilter, page: int) -> str:
    """The caseload with the same choices, on another page."""
    query = {name: getattr(wanted, name) for name in FILTER_LABELS}
    return reverse("support:caseload") + "?" + urlencode({**query, "page": page})


def staff_only(request: HttpRequest) -> None:
    """Patients and people without a role get "not found": these pages are not for them."""
    if policy.staff_role(request.user) is None:
        raise Http404("Not found.")


def default_scope(request: HttpRequest) -> str:
    return "mine" if policy.has_role(request.user, Role.SUPPORTER) else "team"


# --- The caseload ------------------------------------------------------------------------


@login_required
def caseload(request: HttpRequest) -> HttpResponse:
    staff_only(request)
    if not caseloads.can_view_caseload(request.user):
        raise PermissionDenied(_("The caseload is for supporters and their teams."))
    wanted, errors = caseloads.parse_filter(request.GET, default_scope=default_scope(request))
    found = caseloads.caseload(request.user, wanted)
    texts = RowTexts(measure_names(), caseloads.page_templates())
    context = {
        "caseload": found,
        "rows": [row_view(row, texts) for row in found.rows],
        "texts": texts,
        "fields": filter_fields(wanted, errors),
        "errors": errors,
        "summary": tier_summary(found),
        "show_supporter": wanted.scope == "team",
        "previous_href": page_href(wanted, wanted.page - 1) if wanted.page > 1 else "",
        "next_href": page_href(wanted, wanted.page + 1) if wanted.page < found.pages else "",
    }
    return render(request, "insights/support/caseload.html", context, status=400 if errors else 200)


# --- The pre-session brief -------------------------------------------------------------


def mood_chart(brief: briefs.Brief):
    if not brief.mood:
        return None, None
    first_since = next((m.day for m in brief.mood if m.day >= brief.since_day), None)
    points = [
        charts.Point(
            m.day,
            m.mood,
            label=_("first check-in since the last contact") if m.day == first_since else "",
        )
        for m in brief.mood
    ]
    series = [charts.Series(_("Mood"), points)]
    title = _("Daily mood, 0 (very low) to 10 (very good)")
    svg = charts.line_chart(
        series, title=title, y_min=0, y_max=10, y_label=_("Mood"), lower_is_better=False
    )
    table = charts.data_table(series, caption=title, value_label=_("Mood"))
    return svg, table


@login_required
def brief(request: HttpRequest, patient_id: int) -> HttpResponse:
    staff_only(request)
    if not briefs.can_read_brief(request.user):
        if not policy.patients_visible_to(request.user).filter(pk=patient_id).exists():
            raise Http404("Not found.")  # never a hint that someone else's patient exists
        raise PermissionDenied(_("The pre-session brief is for the patient's care team."))
    patient = policy.access_patient(
        request.user, patient_id, what="pre-session brief", request=request
    )
    found = briefs.patient_brief(patient)
    mood_svg, mood_table = mood_chart(found)
    measures = [
        {"measure": m, "svg": trend_sparkline(m, m.name, m.y_max) if len(m.recent) > 1 else ""}
        for m in found.measures
    ]
    context = {
        "patient": patient,
        "brief": found,
        "agenda": found.agenda,
        "measures": measures,
        "mood_svg": mood_svg,
        "mood_table": mood_table,
        "links": caseloads.patient_links(patient.pk, without="brief"),
        "exercises_href": reverse("checkins:patient_entries", args=[patient.pk]),
        "alliance_subscales": [
            (label, found.alliance.subscales[key])
            for key, label in (("goal", _("Goal")), ("task", _("Task")), ("bond", _("Bond")))
            if found.alliance and key in found.alliance.subscales
        ],
    }
    return render(request, "insights/support/brief.html", context)


# --- Supervision -------------------------------------------------------------------------


class ReassignForm(forms.Form):
    supporter_id = forms.TypedChoiceField(
        label=gettext_lazy("New supporter"),
        coerce=int,
        help_text=gettext_lazy("Supporters of the patient's own team."),
        error_messages={
            "required": gettext_lazy("Choose the new supporter."),
            "invalid_choice": gettext_lazy("Choose a supporter of the patient's team."),
        },
    )

    def __init__(self, *args, patient: Patient, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supporter_id"].choices = [("", _("Choose a supporter"))] + [
            (s.pk, s.user.display_name) for s in choices if s.pk != patient.supporter_id
        ]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("approve", gettext_lazy("Approve: move them to another supporter")),
            ("decline", gettext_lazy("Decline: keep their supporter")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Approve or decline the request.")},
    )
    supporter_id = forms.TypedChoiceField(
        label=gettext_lazy("New supporter (when you approve)"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={
            "invalid_choice": gettext_lazy("Choose a supporter of the patient's team.")
        },
    )
    note = forms.CharField(
        label=gettext_lazy("Note of what you decided"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=gettext_lazy("Kept in the record. Tell the patient yourself, by message."),
        error_messages={"required": gettext_lazy("Write what you decided, for the record.")},
    )

    def __init__(self, *args, choices, prefix=None, **kwargs):
        super().__init__(*args, prefix=prefix, **kwargs)
        self.fields["supporter_id"].choices = [("", _("Choose a supporter"))] + [
            (s.pk, s.user.display_name) for s in choices
        ]


def supervisor_only(request: HttpRequest) -> None:
    staff_only(request)
    if not caseloads.can_supervise(request.user):
        raise PermissionDenied(_("Supervision is for supervisors and service managers."))


def supervision_context(request: HttpRequest, *, failed=None, failed_form=None) -> dict:
    view = caseloads.supervision(request.user)
    texts = RowTexts(measure_names(), caseloads.page_templates())
    # The supporters a request can go to: those of the patient's team (one list per team).
    team_supporters: dict[int, list] = {}
    for load in view.supporters:
        for team_id in [t.pk for t in load.supporter.teams.all()]:
            team_supporters.setdefault(team_id, []).append(load.supporter)
    decisions = []
    for change in view.change_requests:
        choices = [
            s
            for s in team_supporters.get(change.patient.team_id, [])
            if s.pk != change.patient.supporter_id and s.user.is_active
        ]
        form = (
            failed_form
            if failed == change.pk
            else DecisionForm(choices=choices, prefix=f"r{change.pk}")
        )
        decisions.append({"change": change, "form": form})
    return {
        "supervision": view,
        "loads": [
            {
                "load": load,
                "rows": [
                    {**row_view(row, texts), "minutes": minutes}
                    for row, minutes in load.patient_times
                ],
            }
            for load in view.supporters
        ],
        "unassigned": [row_view(row, texts) for row in view.unassigned],
        "decisions": decisions,
        "texts": texts,
    }


@login_required
def supervision(request: HttpRequest) -> HttpResponse:
    supervisor_only(request)
    return render(request, "insights/support/supervision.html", supervision_context(request))


@login_required
@require_http_methods(["GET", "POST"])
def reassign(request: HttpRequest, patient_id: int) -> HttpResponse:
    staff_only(request)
    if not policy.can_change_patient_care_team(request.user):
        if not policy.patients_visible_to(request.user).filter(pk=patient_id).exists():
            raise Http404("Not found.")  # never a hint that someone else's patient exists
        raise PermissionDenied(_("Only a supervisor or a service manager can move a patient."))
    patient = policy.access_patient(
        request.user, patient_id, what="patient record", request=request
    )
    choices = list(policy.supporters_assignable_by(request.user, patient))
    data = request.POST if request.method == "POST" else None
    form = ReassignForm(data, patient=patient, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            supporter = caseloads.patient_reassign(
                actor=request.user,
                patient=patient,
                supporter_id=form.cleaned_data["supporter_id"],
                request=request,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("%(patient)s's supporter is now %(supporter)s.")
                % {"patient": patient.user.full_name, "supporter": supporter.user.display_name},
            )
            return redirect(
                "support:supervision" if caseloads.can_supervise(request.user) else "accounts:home"
            )
    context = {"patient": patient, "form": form, "choices": choices}
    return render(
        request, "insights/support/reassign.html", context, status=400 if form.errors else 200
    )


@login_required
@require_POST
def decide(request: HttpRequest, change_id: int) -> HttpResponse:
    supervisor_only(request)
    requests_for = caseloads.optional(
        "alliance.messaging.selectors", "supporter_change_requests_for"
    )
    change = requests_for(request.user).filter(pk=change_id).first() if requests_for else None
    if change is None:
        raise Http404("Not found.")
    choices = list(policy.supporters_assignable_by(request.user, change.patient))
    form = DecisionForm(request.POST, choices=choices, prefix=f"r{change.pk}")
    if form.is_valid():
        try:
            caseloads.supporter_change_settle(
                actor=request.user,
                change_request=change,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
                supporter_id=form.cleaned_data["supporter_id"],
                request=request,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("The request of %(patient)s is decided.")
                % {"patient": change.patient.user.full_name},
            )
            return redirect("support:supervision")
    context = supervision_context(request, failed=change.pk, failed_form=form)
    return render(request, "insights/support/supervision.html", context, status=400)
