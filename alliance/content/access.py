"""Who may read authored content. Content holds no patient data, so no audit is needed.

(Rules of the access policy, kept here until they move to accounts/policy.py.)
"""

from alliance.accounts.models import Role, User
from alliance.accounts.policy import has_role

# Preview pages: the people who write programmes and run the platform.
CONTENT_PREVIEW_ROLES = (Role.CONTENT_AUTHOR, Role.ADMINISTRATOR)
# The API: they, and the staff who deliver or manage care (a supporter adds add-ons).
CONTENT_READER_ROLES = (
    *CONTENT_PREVIEW_ROLES,
    Role.SUPPORTER,
    Role.DIGITAL_NAVIGATOR,
    Role.SUPERVISOR,
    Role.SERVICE_MANAGER,
)


def can_preview_content(user: User) -> bool:
    return user.is_active and has_role(user, *CONTENT_PREVIEW_ROLES)


def can_read_programmes(user: User) -> bool:
    return user.is_active and has_role(user, *CONTENT_READER_ROLES)
