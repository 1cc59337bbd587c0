"""Patients' sessions for the engagement record: each visit of a signed-in patient opens a
session or extends the current one (``services.activity_touch``).

Cheap by design: the patient's id and the time of the last write are kept in their session,
so a page costs no query at all within a minute of the last write, and at most two
otherwise. Staff, anonymous visitors and token-authenticated API calls are not counted.
"""

import logging
import time

from django.db import DatabaseError

from alliance.insights.engagement import TOUCH_EVERY_SECONDS

logger = logging.getLogger("alliance.insights")

PATIENT_KEY = "insights.patient_id"  # the patient's id, or 0 for someone who is not one
SEEN_KEY = "insights.touched_at"


class PatientActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 500:
            self.touch(request)
        return response

    def touch(self, request) -> None:
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or not user.is_authenticated:
            return
        if session.session_key is None:
            return  # no browser session (an API token): nothing to throttle with
        if user.is_care_staff:
            return  # known already (the MFA middleware asked): staff cost no query here
        patient_id = session.get(PATIENT_KEY)
        if patient_id is None:
            patient = user.patient_or_none
            patient_id = patient.pk if patient is not None else 0
            session[PATIENT_KEY] = patient_id
        if not patient_id:
            return
        now = time.time()
        if now - session.get(SEEN_KEY, 0) < TOUCH_EVERY_SECONDS:
            return
        from alliance.insights.services import activity_touch

        try:
            activity_touch(patient_id=patient_id)
        except DatabaseError:
            # The page the patient asked for matters more than its count.
            logger.exception("Could not record the visit of patient %s", patient_id)
            return
        session[SEEN_KEY] = now
