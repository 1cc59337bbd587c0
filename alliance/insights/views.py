"""Pages of the insights app: feedback from staff to the product team."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts import policy
from alliance.insights import services
from alliance.insights.forms import ProductFeedbackForm, TriageForm
from alliance.insights.models import ProductFeedback
from alliance.lib.redirects import safe_next


@login_required
@require_http_methods(["GET", "POST"])
def feedback_send(request: HttpRequest) -> HttpResponse:
    """Any member of staff, from any page: report a problem or suggest an improvement."""
    if policy.staff_role(request.user) is None:
        return HttpResponseForbidden(_("This form is for staff."))
    initial = {"page": request.GET.get("page", "")}
    form = ProductFeedbackForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_feedback_send(reporter=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Thank you — your feedback reached the product team."))
            return redirect(safe_next(request, default=reverse("accounts:home")))
    return render(
        request, "insights/feedback_send.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
def feedback_list(request: HttpRequest) -> HttpResponse:
    if not policy.can_manage_accounts(request.user):
        return HttpResponseForbidden(_("Only an administrator can triage feedback."))
    items = ProductFeedback.objects.filter(
        service_id=request.user.staff_profile.service_id
    ).select_related("reporter", "triaged_by")
    return render(
        request, "insights/feedback_list.html", {"items": items, "triage_form": TriageForm()}
    )


@login_required
@require_POST
def feedback_triage(request: HttpRequest, feedback_id: int) -> HttpResponse:
    if not policy.can_manage_accounts(request.user):
        return HttpResponseForbidden(_("Only an administrator can triage feedback."))
    feedback = ProductFeedback.objects.filter(
        pk=feedback_id, service_id=request.user.staff_profile.service_id
    ).first()
    if feedback is None:
        raise Http404("Not found.")
    form = TriageForm(request.POST)
    if form.is_valid():
        services.product_feedback_triage(
            feedback=feedback,
            actor=request.user,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Choose a status."))
    return redirect("insights:feedback_list")
