"""Background work of the accounts app, run by the huey worker."""

from django.core.mail import send_mail
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from alliance.audit.services import audit_verify


@db_task(retries=5, retry_delay=30)
def send_email(*, to: str, subject: str, body: str) -> int:
    """Send one e-mail; a failing mail server is retried five times, 30 seconds apart."""
    return send_mail(subject, body, None, [to], fail_silently=False)


@db_periodic_task(crontab(minute="17", hour="3"))
def verify_audit_chain_nightly() -> int:
    """Check the audit chain every night; a broken chain is logged as an error."""
    import logging

    problems = audit_verify()
    for problem in problems:
        logging.getLogger("alliance.audit").error("Audit entry %s %s", problem.seq, problem.reason)
    return len(problems)
