"""Alerts as one engine: the triage order, the rules with per-service thresholds, raising
without duplicates, automatic resolution with history, and the insight settings."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from alliance.accounts.models import Role
from alliance.care.models import ContactStatus
from alliance.conftest import make_staff
from alliance.insights import rules, services
from alliance.insights.models import Alert, AlertKind, AlertState, InsightSettings
from alliance.insights.tests.analytics_factories import (
    NOW,
    active_days,
    attended,
    contact,
    end,
    review,
    score,
)
from alliance.messaging.models import Thread

URLS = "alliance.insights.tests.analytics_urls"


@dataclass
class FakeAlert:
    kind: str
    raised_at: datetime
    state: str = "open"


def at(hours: int) -> datetime:
    return datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=hours)


class TestTriageRank:
    def test_it_puts_risk_first_then_the_other_kinds_in_order(self):
        patients = {
            "inactive": [FakeAlert("inactivity", at(0))],
            "risk": [FakeAlert("risk", at(5))],
            "missed": [FakeAlert("missed_appointment", at(0))],
            "worse": [FakeAlert("deterioration", at(3)), FakeAlert("inactivity", at(0))],
            "rupture": [FakeAlert("rupture", at(1))],
            "overdue": [FakeAlert("overdue", at(1))],
            "none": [],
        }
        order = sorted(patients, key=lambda name: rules.triage_rank(patients[name]))
        assert order == ["risk", "worse", "rupture", "overdue", "missed", "inactive", "none"]

    def test_inside_a_kind_the_longest_waiting_comes_first(self):
        early = [FakeAlert("risk", at(1))]
        late = [FakeAlert("risk", at(9)), FakeAlert("risk", at(10))]
        assert rules.triage_rank(early) < rules.triage_rank(late)

    def test_it_ignores_alerts_that_are_not_open(self):
        handled = [FakeAlert("risk", at(0), state="acknowledged")]
        assert rules.triage_rank(handled) == rules.triage_rank([])

    def test_an_unknown_kind_ranks_after_the_known_ones(self):
        assert (
            rules.triage_rank([FakeAlert("inactivity", at(0))])
            < rules.triage_rank([FakeAlert("something_new", at(0))])
            < rules.triage_rank([])
        )


class TestPureRules:
    def test_inactivity_runs_from_the_day_after_the_last_active_one(self):
        assert rules.inactivity_run(
            last_active=date(2026, 3, 1), started=date(2026, 2, 1), today=date(2026, 3, 9)
        ) == (date(2026, 3, 2), 7)
        assert rules.inactivity_run(
            last_active=None, started=date(2026, 3, 5), today=date(2026, 3, 9)
        ) == (date(2026, 3, 5), 4)

    def test_missed_in_a_row_needs_the_latest_ones_all_missed(self):
        dna, ok = ContactStatus.DID_NOT_ATTEND, ContactStatus.ATTENDED
        assert rules.missed_in_a_row([dna, dna, ok], 2)
        assert not rules.missed_in_a_row([dna, ok, dna], 2)
        assert not rules.missed_in_a_row([dna], 2)

    def test_a_review_is_overdue_after_the_grace_days(self):
        due = datetime(2026, 3, 1, 9, tzinfo=UTC)
        assert not rules.review_overdue(due_at=due, now=due + timedelta(days=2), grace_days=2)
        assert rules.review_overdue(
            due_at=due, now=due + timedelta(days=2, minutes=1), grace_days=2
        )


def backdate(episode, days: int):
    episode.started_at = NOW - timedelta(days=days)
    episode.save(update_fields=["started_at"])
    return episode


def alerts(kind: str):
    return list(Alert.objects.filter(kind=kind).order_by("pk"))


class TestInactivity:
    def test_it_alerts_after_the_services_days_and_resolves_when_active_again(self, alice, episode):
        backdate(episode, 10)
        services.alerts_evaluate(now=NOW)
        (alert,) = alerts(AlertKind.INACTIVITY)
        assert alert.state == AlertState.OPEN and alert.owner == alice.supporter
        assert alert.cause == f"inactivity:since:{episode.started_at.date().isoformat()}"

        active_days(alice, [NOW.date() - timedelta(days=1)])
        result = services.alerts_evaluate(now=NOW)

        alert.refresh_from_db()
        assert result["resolved"] == 1
        assert alert.state == AlertState.RESOLVED
        events = alert.events.order_by("pk")
        assert list(events.values_list("event", flat=True)) == ["raised", "resolved"]
        assert alert.events.order_by("pk").last().note == "Active again, or the episode ended."

    def test_it_follows_the_services_threshold(self, alice, riverside, episode):
        backdate(episode, 10)
        InsightSettings.objects.create(service=riverside, inactivity_days=14)
        services.alerts_evaluate(now=NOW)
        assert alerts(AlertKind.INACTIVITY) == []

    def test_it_raises_no_duplicate_for_the_same_cause(self, alice, episode):
        backdate(episode, 10)
        for hours in range(3):
            services.alerts_evaluate(now=NOW + timedelta(hours=hours))
        assert len(alerts(AlertKind.INACTIVITY)) == 1

    def test_an_acknowledged_alert_is_not_raised_again(self, alice, sam, episode):
        backdate(episode, 10)
        services.alerts_evaluate(now=NOW)
        services.alert_acknowledge(
            alert=alerts(AlertKind.INACTIVITY)[0], actor=sam.user, note="Rang"
        )
        services.alerts_evaluate(now=NOW + timedelta(hours=1))
        assert [a.state for a in alerts(AlertKind.INACTIVITY)] == [AlertState.ACKNOWLEDGED]

    def test_a_new_run_of_inactivity_is_a_new_alert(self, alice, episode):
        backdate(episode, 30)
        active_days(alice, [NOW.date() - timedelta(days=20)])
        services.alerts_evaluate(now=NOW - timedelta(days=5))
        active_days(alice, [NOW.date() - timedelta(days=4)])
        services.alerts_evaluate(now=NOW + timedelta(days=5))
        assert [a.state for a in alerts(AlertKind.INACTIVITY)] == [
            AlertState.RESOLVED,
            AlertState.OPEN,
        ]

    def test_an_ended_episode_resolves_it(self, alice, episode):
        backdate(episode, 10)
        services.alerts_evaluate(now=NOW)
        end(episode, NOW)
        services.alerts_evaluate(now=NOW)
        assert alerts(AlertKind.INACTIVITY)[0].state == AlertState.RESOLVED


class TestDeterioration:
    def test_it_alerts_on_reliable_deterioration_and_resolves_when_it_passes(self, alice, episode):
        score(episode, "phq9", 5, NOW - timedelta(days=20))
        score(episode, "phq9", 12, NOW - timedelta(days=10))
        services.alerts_evaluate(now=NOW)
        (alert,) = alerts(AlertKind.DETERIORATION)
        assert alert.cause == f"deterioration:phq9:episode:{episode.pk}"
        assert "5 at the start, 12 now" in alert.summary

        score(episode, "phq9", 7, NOW - timedelta(days=1))
        services.alerts_evaluate(now=NOW)
        alert.refresh_from_db()
        assert alert.state == AlertState.RESOLVED

    def test_a_service_can_switch_it_off_without_losing_open_alerts(
        self, alice, riverside, episode
    ):
        score(episode, "gad7", 3, NOW - timedelta(days=20))
        score(episode, "gad7", 9, NOW - timedelta(days=10))
        services.alerts_evaluate(now=NOW)
        InsightSettings.objects.create(service=riverside, deterioration_alerts=False)
        services.alerts_evaluate(now=NOW)
        assert [a.state for a in alerts(AlertKind.DETERIORATION)] == [AlertState.OPEN]


class TestMissedAppointments:
    def test_it_alerts_on_a_missed_contact_and_resolves_after_an_attended_one(self, alice, episode):
        missed = contact(episode, ContactStatus.DID_NOT_ATTEND, NOW - timedelta(days=2))
        services.alerts_evaluate(now=NOW)
        (alert,) = alerts(AlertKind.MISSED_APPOINTMENT)
        assert alert.cause == f"missed:{missed.pk}"

        attended(episode, NOW - timedelta(days=1))
        services.alerts_evaluate(now=NOW)
        alert.refresh_from_db()
        assert alert.state == AlertState.RESOLVED

    def test_the_service_can_ask_for_several_in_a_row(self, alice, riverside, episode):
        InsightSettings.objects.create(service=riverside, missed_in_a_row=2)
        contact(episode, ContactStatus.DID_NOT_ATTEND, NOW - timedelta(days=2))
        services.alerts_evaluate(now=NOW)
        assert alerts(AlertKind.MISSED_APPOINTMENT) == []
        contact(episode, ContactStatus.DID_NOT_ATTEND, NOW - timedelta(days=1))
        services.alerts_evaluate(now=NOW)
        assert len(alerts(AlertKind.MISSED_APPOINTMENT)) == 1

    def test_scheduled_contacts_do_not_count(self, alice, episode):
        contact(episode, ContactStatus.SCHEDULED, NOW - timedelta(days=1))
        services.alerts_evaluate(now=NOW)
        assert alerts(AlertKind.MISSED_APPOINTMENT) == []


class TestOverdue:
    def test_a_review_overdue_raises_and_a_completed_review_resolves(self, alice, episode):
        backdate(episode, 30)  # blended: a review every 14 days
        services.alerts_evaluate(now=NOW)
        (alert,) = [a for a in alerts(AlertKind.OVERDUE) if a.cause.startswith("review:")]
        review(episode, NOW - timedelta(days=1), minutes=15)
        services.alerts_evaluate(now=NOW)
        alert.refresh_from_db()
        assert alert.state == AlertState.RESOLVED
        assert alert.events.order_by("pk").last().note == "Reviewed, or the episode ended."

    def test_a_review_within_the_grace_days_raises_nothing(self, alice, riverside, episode):
        backdate(episode, 16)  # due 2 days ago
        InsightSettings.objects.create(service=riverside, review_overdue_days=3)
        services.alerts_evaluate(now=NOW)
        assert [a for a in alerts(AlertKind.OVERDUE) if a.cause.startswith("review:")] == []

    def test_a_message_waiting_past_the_reply_target_raises_and_a_reply_resolves(
        self, alice, episode
    ):
        thread = Thread.objects.create(
            patient=alice,
            last_message_at=NOW - timedelta(days=10),
            awaiting_reply_since=NOW - timedelta(days=10),
        )
        services.alerts_evaluate(now=NOW)
        (alert,) = [a for a in alerts(AlertKind.OVERDUE) if a.cause.startswith("message:")]
        Thread.objects.filter(pk=thread.pk).update(awaiting_reply_since=None)
        services.alerts_evaluate(now=NOW)
        alert.refresh_from_db()
        assert alert.state == AlertState.RESOLVED


class TestEngine:
    def test_it_leaves_risk_alerts_to_staff(self, alice, episode):
        risk = services.alert_raise(patient=alice, kind="risk", cause="response:1", summary="R")
        end(episode, NOW)
        services.alerts_evaluate(now=NOW)
        risk.refresh_from_db()
        assert risk.state == AlertState.OPEN

    def test_it_evaluates_one_service_only_when_asked(self, alice, carol, hillside, episode, oscar):
        from alliance.care import services as care_services
        from alliance.conftest import make_programme

        backdate(episode, 10)
        carols = care_services.episode_start(
            patient=carol,
            programme=make_programme(key="hill"),
            care_model="blended",
            supporter=oscar,
            actor=None,
        )
        backdate(carols, 10)
        services.alerts_evaluate(service=hillside, now=NOW)
        assert [a.patient for a in alerts(AlertKind.INACTIVITY)] == [carol]

    def test_it_runs_a_fixed_number_of_queries_when_nothing_changes(
        self, riverside, north, programme, django_assert_max_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from alliance.care import services as care_services
        from alliance.conftest import make_patient

        counts = []
        for size in (2, 12):
            for n in range(size):
                patient = make_patient(riverside, north, f"E{size}x{n} Test")
                episode = care_services.episode_start(
                    patient=patient,
                    programme=programme,
                    care_model="blended",
                    supporter=None,
                    actor=None,
                )
                backdate(episode, 3)
                active_days(patient, [NOW.date() - timedelta(days=1)])
                score(episode, "phq9", 10, NOW - timedelta(days=2))
                attended(episode, NOW - timedelta(days=1))
            services.alerts_evaluate(now=NOW)  # nothing to raise: all active, nothing due
            with CaptureQueriesContext(connection) as queries:
                assert services.alerts_evaluate(now=NOW) == {"raised": 0, "resolved": 0}
            counts.append(len(queries))
        assert counts[0] == counts[1]


class TestAlertResolve:
    def test_staff_resolve_with_a_note_and_it_is_audited(self, alice, sam):
        from alliance.audit.models import AuditEntry

        alert = services.alert_raise(patient=alice, kind="overdue", cause="x", summary="S")
        assert services.alert_resolve(alert=alert, note="Sorted out", actor=sam.user)
        alert.refresh_from_db()
        assert alert.state == AlertState.RESOLVED
        entry = AuditEntry.objects.get(what="alert resolved")
        assert entry.detail["old"] == "open" and entry.detail["new"] == "resolved"
        assert not services.alert_resolve(alert=alert, note="Again", actor=sam.user)

    def test_it_needs_a_note_and_changes_nothing_without(self, alice, sam):
        alert = services.alert_raise(patient=alice, kind="overdue", cause="x", summary="S")
        with pytest.raises(ValidationError) as raised:
            services.alert_resolve(alert=alert, note="  ", actor=sam.user)
        assert "note" in raised.value.message_dict
        alert.refresh_from_db()
        assert alert.state == AlertState.OPEN


class TestInsightSettingsUpdate:
    def test_it_saves_values_in_range(self, riverside, ada):
        saved = services.insight_settings_update(
            service=riverside, actor=ada.user, inactivity_days=5, rupture_k=1.5
        )
        assert (saved.inactivity_days, saved.rupture_k) == (5, 1.5)
        assert InsightSettings.objects.get(service=riverside).updated_by == ada.user

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("inactivity_days", 0),
            ("inactivity_days", 91),
            ("rupture_k", 0.1),
            ("rupture_sample_sd", 3),
            ("rupture_repair_window", 7),
            ("rupture_min_sessions", 2),
            ("review_overdue_days", 31),
            ("inactivity_days", 2.5),
            ("rupture_k", "a lot"),
        ],
    )
    def test_it_refuses_a_value_out_of_range_and_changes_nothing(
        self, riverside, ada, field, value
    ):
        InsightSettings.objects.create(service=riverside, inactivity_days=9, missed_in_a_row=2)
        with pytest.raises(ValidationError) as raised:
            services.insight_settings_update(
                service=riverside, actor=ada.user, **{"missed_in_a_row": 3, field: value}
            )
        assert list(raised.value.message_dict) == [field]
        unchanged = InsightSettings.objects.get(service=riverside)
        assert (unchanged.inactivity_days, unchanged.missed_in_a_row) == (9, 2)


@pytest.mark.urls(URLS)
class TestSettingsPage:
    url = "/insights/analytics/settings/"

    def valid(self, **changes):
        data = {
            "inactivity_days": 7,
            "rupture_k": 2.0,
            "rupture_sample_sd": 0.35,
            "rupture_repair_window": 2,
            "rupture_min_sessions": 4,
            "missed_in_a_row": 1,
            "review_overdue_days": 2,
            "deterioration_alerts": "on",
        }
        return {**data, **changes}

    def test_an_administrator_changes_the_thresholds(self, login, ada, riverside):
        client = login(ada)
        assert client.get(self.url).status_code == 200
        response = client.post(self.url, self.valid(inactivity_days=10))
        assert response.status_code == 302
        assert InsightSettings.objects.get(service=riverside).inactivity_days == 10

    def test_a_value_out_of_range_is_named_and_nothing_changes(self, login, ada, riverside):
        response = login(ada).post(self.url, self.valid(inactivity_days=10, rupture_k=9))
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert "Rupture: a drop of at least this many SDs: Enter a value from 0.5 to 4.0." in page
        assert not InsightSettings.objects.filter(service=riverside).exists()

    @pytest.mark.parametrize("outsider", ["sam", "morgan", "ruth", "oscar", "alice"])
    def test_it_is_for_administrators_only(self, request, login, outsider):
        client = login(request.getfixturevalue(outsider))
        assert client.get(self.url).status_code == 403
        assert client.post(self.url, self.valid()).status_code == 403
        assert not InsightSettings.objects.exists()


@pytest.mark.urls(URLS)
class TestUpdateInsightSettings:
    url = "/api/v1/insights/settings"

    def put(self, client, body):
        return client.put(self.url, json.dumps(body), content_type="application/json")

    def test_an_administrator_changes_only_what_is_given(self, login, ada, riverside):
        client = login(ada)
        response = self.put(client, {"missed_in_a_row": 3})
        assert response.status_code == 200
        assert response.json()["missed_in_a_row"] == 3
        assert response.json()["inactivity_days"] == 7
        assert client.get(self.url).json()["missed_in_a_row"] == 3

    def test_a_value_out_of_range_is_422_naming_it_and_changes_nothing(self, login, ada):
        response = self.put(login(ada), {"missed_in_a_row": 3, "rupture_sample_sd": 0})
        assert response.status_code == 422
        assert list(response.json()["error"]["fields"]) == ["rupture_sample_sd"]
        assert not InsightSettings.objects.exists()

    def test_an_administrator_of_another_service_changes_their_own(
        self, login, hillside, riverside
    ):
        other = make_staff(hillside, Role.ADMINISTRATOR, "Hal Hilladmin")
        self.put(login(other), {"inactivity_days": 3})
        assert InsightSettings.objects.get().service == hillside

    @pytest.mark.parametrize("outsider", ["sam", "ruth", "tomasz"])
    def test_it_is_forbidden_to_others(self, request, login, outsider):
        client = login(request.getfixturevalue(outsider))
        assert self.put(client, {"inactivity_days": 3}).status_code == 403
        assert client.get(self.url).status_code == 403
        assert not InsightSettings.objects.exists()
