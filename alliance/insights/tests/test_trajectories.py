"""Engagement trajectories: the weekly curve, the rule that classes it, the nightly
classification, the service page and the API."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.care import services as care_services
from alliance.conftest import make_patient
from alliance.insights import services, trajectories
from alliance.insights.models import EngagementClass, EngagementLabel
from alliance.insights.tests.analytics_factories import NOW, active_days, attended, end, score
from alliance.insights.trajectories import classify, longest_gap, mean_curve, weekly_curve

URLS = "alliance.insights.tests.analytics_urls"
L = EngagementLabel


class TestClassify:
    @pytest.mark.parametrize(
        ("curve", "label"),
        [
            ([5, 4, 4, 3, 4, 3, 3, 4, 3, 3, 2, 3], L.SUSTAINED),
            ([2, 2, 2, 2], L.SUSTAINED),
            ([5, 4, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0], L.EARLY_DROP_OFF),
            ([3, 3, 3, 3, 0, 0], L.EARLY_DROP_OFF),  # last engaged week is week 3 (< 4)
            ([4, 4, 3, 4, 3, 3, 2, 1, 0, 0, 0, 0], L.LATE_DISENGAGEMENT),
            ([3, 3, 3, 3, 3, 0, 1], L.LATE_DISENGAGEMENT),  # week 4 engaged, then two weeks off
            ([4, 4, 3, 0, 0, 0, 1, 3, 4, 3, 3, 2], L.LAPSED_AND_RESUMED),
            ([3, 0, 0, 3], L.LAPSED_AND_RESUMED),
            ([3, 0, 3, 0, 3, 0, 3], L.SUSTAINED),  # one-week gaps are not a lapse
            ([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1], L.LOW_THROUGHOUT),
            ([0, 0, 0, 0], L.LOW_THROUGHOUT),
            ([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], L.EARLY_DROP_OFF),
            ([0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0], L.LOW_THROUGHOUT),  # 1 of 6 weeks
            ([1, 1, 2, 1, 0, 1, 0, 0, 1, 0, 0, 0], L.LOW_THROUGHOUT),  # 1 of 3 weeks
            ([2, 0, 0, 2, 0, 0, 2, 0, 0, 2, 0, 0], L.LOW_THROUGHOUT),  # 4 of 10 weeks
            ([3, 3, 0], L.TOO_EARLY),
            ([], L.TOO_EARLY),
        ],
    )
    def test_it_names_the_shape_of_the_curve(self, curve, label):
        assert classify(curve) == label

    def test_it_needs_half_the_weeks_engaged_up_to_the_last_engaged_one(self):
        assert classify([2, 0, 2, 0, 0, 0]) == L.EARLY_DROP_OFF  # 2 of 3 weeks
        assert classify([2, 0, 0, 2, 0, 0]) == L.EARLY_DROP_OFF  # 2 of 4: exactly half
        assert classify([0, 0, 2, 0, 0, 0]) == L.LOW_THROUGHOUT  # 1 of 3

    def test_every_class_is_reachable_and_named(self):
        names = dict(EngagementLabel.choices)
        assert all(label in names for label in trajectories.CLASSES)


class TestWeeklyCurve:
    start = date(2026, 1, 5)

    def test_it_counts_active_days_in_complete_weeks_only(self):
        days = [self.start, self.start + timedelta(days=1), self.start + timedelta(days=8)]
        curve = weekly_curve(
            days,
            start=self.start,
            last_day=self.start + timedelta(days=17),
            complete_only_until=self.start + timedelta(days=17),
        )
        assert curve == [2, 1]  # the third week is not over yet

    def test_it_keeps_the_last_part_week_of_an_ended_episode(self):
        curve = weekly_curve(
            [self.start + timedelta(days=15)],
            start=self.start,
            last_day=self.start + timedelta(days=15),
            complete_only_until=self.start + timedelta(days=90),
        )
        assert curve == [0, 0, 1]

    def test_it_pads_a_patient_who_stopped_with_empty_weeks(self):
        curve = weekly_curve(
            [self.start],
            start=self.start,
            last_day=self.start + timedelta(days=10),
            complete_only_until=self.start + timedelta(days=90),
            stopped=True,
        )
        assert curve == [1] + [0] * 11

    def test_it_stops_at_twelve_weeks_and_ignores_days_outside(self):
        days = [self.start - timedelta(days=1), self.start + timedelta(weeks=13)]
        curve = weekly_curve(
            days,
            start=self.start,
            last_day=self.start + timedelta(weeks=20),
            complete_only_until=self.start + timedelta(weeks=20),
        )
        assert curve == [0] * 12

    def test_helpers(self):
        assert longest_gap([False, True, False, False, True, False]) == 2
        assert mean_curve([[2, 4], [4]]) == [3.0, 4.0]


def engaged_days(start: date, curve: list[int]) -> list[date]:
    return [start + timedelta(weeks=w, days=d) for w, n in enumerate(curve) for d in range(n)]


def backdated(episode, weeks: int):
    episode.started_at = NOW - timedelta(weeks=weeks, hours=1)
    episode.save(update_fields=["started_at"])
    return episode


class TestEngagementClassesRecompute:
    def test_it_classes_an_episode_from_its_record(self, alice, episode):
        backdated(episode, 8)
        start = episode.started_at.date()
        active_days(alice, engaged_days(start, [4, 4, 3, 0, 0, 0, 3, 3]))
        services.engagement_classes_recompute(now=NOW)
        found = EngagementClass.objects.get(episode=episode)
        assert found.label == L.LAPSED_AND_RESUMED
        assert found.curve == [4, 4, 3, 0, 0, 0, 3, 3]

    def test_it_updates_the_class_when_run_again(self, alice, episode):
        backdated(episode, 5)
        start = episode.started_at.date()
        services.engagement_classes_recompute(now=NOW)
        active_days(alice, engaged_days(start, [3, 3, 3, 3, 3]))
        services.engagement_classes_recompute(now=NOW)
        assert EngagementClass.objects.get().label == L.SUSTAINED

    def test_a_patient_who_dropped_out_counts_the_rest_as_empty(self, alice, episode):
        backdated(episode, 20)
        start = episode.started_at.date()
        active_days(alice, engaged_days(start, [4, 3]))
        end(episode, episode.started_at + timedelta(weeks=2, days=3), "dropped_out")
        services.engagement_classes_recompute(now=NOW)
        assert EngagementClass.objects.get().label == L.EARLY_DROP_OFF


@pytest.fixture
def classed(alice, bob, episode, programme, priya, sam):
    """Alice sustained (ended, recovered); Bob dropped off early."""
    backdated(episode, 12)
    for week in range(3):
        attended(episode, episode.started_at + timedelta(weeks=week))
    score(episode, "phq9", 15, episode.started_at)
    score(episode, "gad7", 12, episode.started_at)
    score(episode, "phq9", 5, episode.started_at + timedelta(weeks=10))
    score(episode, "gad7", 4, episode.started_at + timedelta(weeks=10))
    end(episode, NOW - timedelta(days=1))
    active_days(alice, engaged_days(episode.started_at.date(), [3] * 12))
    bobs = care_services.episode_start(
        patient=bob, programme=programme, care_model="blended", supporter=priya, actor=None
    )
    backdated(bobs, 10)
    active_days(bob, engaged_days(bobs.started_at.date(), [4, 3, 2]))
    services.engagement_classes_recompute(now=NOW)
    return episode, bobs


@pytest.mark.urls(URLS)
class TestTrajectoriesPage:
    url = "/insights/analytics/trajectories/"

    def test_it_shows_a_manager_the_classes_their_curves_and_outcomes(self, login, ruth, classed):
        response = login(ruth).get(self.url)
        assert response.status_code == 200
        summary = response.context["summary"]
        by_label = {item.label: item for item in summary.classes}
        assert by_label[L.SUSTAINED].episodes == 1
        assert by_label[L.SUSTAINED].mean_curve == [3.0] * 12
        assert by_label[L.SUSTAINED].outcomes.recovered == 1
        assert by_label[L.SUSTAINED].outcomes.recovery_rate == 100.0
        assert by_label[L.EARLY_DROP_OFF].episodes == 1
        assert by_label[L.EARLY_DROP_OFF].mean_curve[:3] == [4.0, 3.0, 2.0]
        page = response.content.decode()
        assert "<svg" in page and "Early drop-off" in page

    def test_the_mean_curves_from_the_database_equal_the_rule(self, ruth, classed, alice, bob):
        from alliance.accounts import policy

        summary = trajectories.trajectory_summary(policy.patients_visible_to(ruth.user))
        curves = {c.label: c.mean_curve for c in summary.classes}
        stored = EngagementClass.objects.filter(label=L.EARLY_DROP_OFF).values_list(
            "curve", flat=True
        )
        assert curves[L.EARLY_DROP_OFF] == mean_curve(stored)

    def test_a_supervisor_sees_only_their_teams(self, login, morgan, classed):
        summary = login(morgan).get(self.url).context["summary"]
        assert {item.label: item.episodes for item in summary.classes}[L.EARLY_DROP_OFF] == 0

    @pytest.mark.parametrize("outsider", ["sam", "oscar", "tomasz", "alice"])
    def test_it_is_refused_to_others(self, request, login, outsider):
        response = login(request.getfixturevalue(outsider)).get(self.url)
        assert response.status_code == 403

    def test_it_runs_a_fixed_number_of_queries(self, login, ruth, riverside, north, programme):
        client = login(ruth)
        client.get(self.url)
        counts = []
        for size in (2, 15):
            for n in range(size):
                patient = make_patient(riverside, north, f"T{size}x{n} Test")
                episode = care_services.episode_start(
                    patient=patient,
                    programme=programme,
                    care_model="blended",
                    supporter=None,
                    actor=None,
                )
                backdated(episode, 6)
                active_days(patient, engaged_days(episode.started_at.date(), [3, 2, 0, 0, 0, 0]))
            services.engagement_classes_recompute(now=NOW)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(self.url).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]


@pytest.mark.urls(URLS)
class TestListTrajectories:
    url = "/api/v1/insights/trajectories"

    def test_it_gives_the_classes_with_counts_and_outcomes(self, login, ruth, classed):
        body = login(ruth).get(self.url).json()
        by_label = {item["label"]: item for item in body["classes"]}
        assert by_label["sustained"]["episodes"] == 1
        assert by_label["sustained"]["outcomes"]["recovery_rate"] == 100.0

    @pytest.mark.parametrize("outsider", ["sam", "oscar", "tomasz"])
    def test_it_is_forbidden_to_others(self, request, login, outsider):
        response = login(request.getfixturevalue(outsider)).get(self.url)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
