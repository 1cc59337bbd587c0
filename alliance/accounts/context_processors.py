"""Navigation links for the base layout: only features that exist for this person."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alliance.accounts.policy import can_manage_accounts, staff_role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [(reverse("accounts:home"), _("Home"))]
    role = staff_role(user)
    if role is not None and role not in {"researcher", "content_author"}:
        links.append((reverse("accounts:patient_list"), _("Patients")))
    if can_manage_accounts(user):
        links.append((reverse("accounts:staff_list"), _("Staff accounts")))
    links.append((reverse("accounts:security"), _("Security")))
    return {"nav_links": links, "staff_role": role}
