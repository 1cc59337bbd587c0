"""Navigation links for the base layout: only features that exist for this person."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import Role
from alliance.accounts.policy import can_manage_accounts, staff_role

NO_PATIENT_ROLES = {Role.RESEARCHER, Role.CONTENT_AUTHOR}
PROGRAMME_ROLES = {Role.CONTENT_AUTHOR, Role.ADMINISTRATOR}
CASELOAD_ROLES = {Role.SUPPORTER, Role.DIGITAL_NAVIGATOR, Role.SUPERVISOR}
SUPERVISION_ROLES = {Role.SUPERVISOR, Role.SERVICE_MANAGER}
INSIGHT_ROLES = {Role.SUPERVISOR, Role.SERVICE_MANAGER, Role.ADMINISTRATOR}


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    role = staff_role(user)
    if role is None:
        links = [
            (reverse("care:week"), _("Your week")),
            (reverse("checkins:checkin_today"), _("Check in")),
            (reverse("messaging:my_thread"), _("Messages")),
            (reverse("research:consent"), _("Research")),
            (reverse("checkins:entry_list"), _("Your exercises")),
        ]
    else:
        links = [(reverse("accounts:home"), _("Home"))]
        if role not in NO_PATIENT_ROLES:
            links.append((reverse("accounts:patient_list"), _("Patients")))
            links.append((reverse("care:review_queue"), _("Reviews")))
            links.append((reverse("messaging:inbox"), _("Inbox")))
        if role in CASELOAD_ROLES:
            links.insert(1, (reverse("support:caseload"), _("Caseload")))
        if role in SUPERVISION_ROLES:
            links.append((reverse("support:supervision"), _("Supervision")))
        if role in INSIGHT_ROLES:
            links.append((reverse("analytics:index"), _("Insights")))
        if role == Role.RESEARCHER:
            links.append((reverse("research:project_list"), _("Research")))
        if role in PROGRAMME_ROLES:
            links.append((reverse("content:programme_list"), _("Programmes")))
        if can_manage_accounts(user):
            links.append((reverse("accounts:staff_list"), _("Staff accounts")))
    links.append((reverse("accounts:security"), _("Security")))
    return {"nav_links": links, "staff_role": role}
