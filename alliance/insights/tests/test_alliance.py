"""The alliance: WAI-SR totals and subscales over an episode, ruptures by the service's
rule, the rupture alert for supervision, the supervisors' page and the API."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.accounts.models import Role
from alliance.care import services as care_services
from alliance.conftest import make_patient, make_staff
from alliance.insights import services
from alliance.insights.alliance_scores import alliance_summary
from alliance.insights.models import Alert, AlertKind, AlertState, InsightSettings
from alliance.insights.tests.analytics_factories import NOW, wai_sr

URLS = "alliance.insights.tests.analytics_urls"


def ratings(episode, means, *, start=NOW - timedelta(weeks=6)):
    return [wai_sr(episode, mean, start + timedelta(weeks=i)) for i, mean in enumerate(means)]


@pytest.fixture
def ruptured(episode):
    """Alice's alliance: steady, a sharp fall at the fourth rating, then a repair."""
    return ratings(episode, [4.25, 4.25, 4.33, 3.25, 4.17])


class TestAllianceSummary:
    def test_it_gives_totals_means_and_subscales(self, alice, episode):
        wai_sr(episode, 4.0, NOW, bond=5)
        summary = alliance_summary(alice)
        latest = summary.latest
        assert latest.total == 52  # 8 items at 4, the four bond items at 5
        assert latest.mean == pytest.approx(52 / 12, abs=0.001)
        assert latest.bond == 20 and latest.goal == 16 and latest.task == 16
        assert latest.means == {"goal": 4.0, "task": 4.0, "bond": 5.0}
        assert summary.change is None

    def test_it_finds_a_rupture_and_its_repair(self, alice, ruptured):
        summary = alliance_summary(alice)
        assert [r.mean for r in summary.ratings][3] == 3.25
        assert len(summary.ruptures) == 1
        found = summary.ruptures[0]
        assert found.before.response_id == ruptured[2].pk
        assert found.at.response_id == ruptured[3].pk
        assert found.drop == pytest.approx(1.08, abs=0.01)
        assert found.repaired is True
        assert summary.change == pytest.approx(-0.08, abs=0.01)

    def test_a_small_dip_is_not_a_rupture_by_default(self, alice, episode):
        ratings(episode, [4.25, 4.0, 3.75])  # drops of 0.25: under 2 x 0.35
        assert alliance_summary(alice).ruptures == []

    def test_the_services_own_rule_applies(self, alice, riverside, episode):
        ratings(episode, [4.25, 4.0, 3.75])
        InsightSettings.objects.create(service=riverside, rupture_k=1.0, rupture_sample_sd=0.2)
        summary = alliance_summary(alice)
        assert len(summary.ruptures) == 2
        assert summary.threshold == 0.2

    def test_it_reads_the_episode_given(self, alice, episode):
        ratings(episode, [4.0, 4.0])
        assert len(alliance_summary(episode).ratings) == 2

    def test_a_patient_without_an_episode_has_no_ratings(self, bob):
        summary = alliance_summary(bob)
        assert summary.episode is None and summary.ratings == [] and summary.latest is None

    def test_it_runs_a_fixed_number_of_queries(self, alice, episode, django_assert_num_queries):
        ratings(episode, [4.0] * 3)
        with django_assert_num_queries(3):
            alliance_summary(alice)
        ratings(episode, [4.0] * 20, start=NOW)
        with django_assert_num_queries(3):
            alliance_summary(alice)


class TestRuptureAlert:
    def test_a_rupture_raises_one_alert_for_the_teams_supervisor(self, alice, morgan, ruptured):
        services.alerts_evaluate(now=NOW)
        services.alerts_evaluate(now=NOW + timedelta(hours=1))
        alert = Alert.objects.get(kind=AlertKind.RUPTURE)
        assert alert.owner == morgan
        assert alert.cause == f"rupture:response:{ruptured[3].pk}"
        assert "4.33" in alert.summary and "3.25" in alert.summary
        assert list(alert.events.order_by("pk").values_list("event", flat=True)) == ["raised"]

    def test_without_a_supervisor_it_goes_to_the_supporter(self, alice, sam, ruptured):
        services.alerts_evaluate(now=NOW)
        assert Alert.objects.get(kind=AlertKind.RUPTURE).owner == sam

    def test_it_stays_until_acknowledged_and_is_not_raised_again(self, alice, morgan, ruptured):
        services.alerts_evaluate(now=NOW)
        alert = Alert.objects.get(kind=AlertKind.RUPTURE)
        services.alert_acknowledge(alert=alert, actor=morgan.user, note="Discussed in supervision")
        services.alerts_evaluate(now=NOW + timedelta(days=1))
        assert Alert.objects.filter(kind=AlertKind.RUPTURE).count() == 1
        assert Alert.objects.get(kind=AlertKind.RUPTURE).state == AlertState.ACKNOWLEDGED


@pytest.mark.urls(URLS)
class TestAlliancePage:
    url = "/insights/analytics/alliance/"

    def test_a_supervisor_finds_the_patients_whose_alliance_dropped(
        self, login, morgan, alice, ruptured
    ):
        ratings_of_repaired = ruptured  # the repair is in: shown when asked for
        response = login(morgan).get(self.url, {"repaired": "1"})
        assert response.status_code == 200
        rows = response.context["rows"]
        assert [row.patient for row in rows] == [alice]
        assert rows[0].found.at.response_id == ratings_of_repaired[3].pk
        assert "Alice Patient" in response.content.decode()

    def test_it_lists_unrepaired_ruptures_by_default(self, login, morgan, alice, episode):
        ratings(episode, [4.25, 4.25, 4.33, 3.25])
        rows = login(morgan).get(self.url).context["rows"]
        assert len(rows) == 1 and rows[0].found.repaired is None

    def test_it_hides_repaired_ones_by_default(self, login, morgan, ruptured):
        assert login(morgan).get(self.url).context["rows"] == []

    def test_it_audits_which_patients_were_shown(self, login, morgan, alice, episode):
        from alliance.audit.models import AuditEntry

        ratings(episode, [4.25, 4.25, 4.33, 3.25])
        login(morgan).get(self.url)
        entry = AuditEntry.objects.filter(what="alliance drops").get()
        assert entry.detail == {"patients": [alice.pk]}

    def test_a_supervisor_of_another_team_does_not_see_them(
        self, login, riverside, south, alice, episode
    ):
        other = make_staff(riverside, Role.SUPERVISOR, "Sian Southsupervisor", [south])
        ratings(episode, [4.25, 4.25, 4.33, 3.25])
        assert login(other).get(self.url).context["rows"] == []

    @pytest.mark.parametrize("outsider", ["sam", "nia", "oscar", "tomasz", "ada", "alice"])
    def test_it_is_refused_to_others(self, request, login, outsider):
        assert login(request.getfixturevalue(outsider)).get(self.url).status_code == 403

    def test_it_runs_a_fixed_number_of_queries(
        self, login, ruth, riverside, north, programme, alice, episode
    ):
        client = login(ruth)
        ratings(episode, [4.25, 4.25, 4.33, 3.25])
        client.get(self.url)  # warm up: the session and the audit chain's first entry
        counts = []
        for size in (1, 8):
            for n in range(size):
                patient = make_patient(riverside, north, f"A{size}x{n} Test")
                episode = care_services.episode_start(
                    patient=patient,
                    programme=programme,
                    care_model="blended",
                    supporter=None,
                    actor=None,
                )
                ratings(episode, [4.25, 4.25, 4.33, 3.25])
            with CaptureQueriesContext(connection) as queries:
                assert client.get(self.url).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]


@pytest.mark.urls(URLS)
class TestGetAlliance:
    def test_it_gives_the_ratings_and_ruptures(self, login, sam, alice, ruptured):
        response = login(sam).get(f"/api/v1/patients/{alice.pk}/alliance")
        assert response.status_code == 200
        body = response.json()
        assert len(body["ratings"]) == 5
        assert body["ratings"][0]["goal"] is not None
        assert body["ruptures"][0]["response_id"] == ruptured[3].pk
        assert body["ruptures"][0]["repaired"] is True
        assert body["parameters"] == {
            "sample_sd": 0.35,
            "k": 2.0,
            "repair_window": 2,
            "min_sessions": 4,
        }

    @pytest.mark.parametrize("outsider", ["oscar", "priya"])
    def test_it_is_not_found_for_staff_who_cannot_see_the_patient(
        self, request, login, alice, outsider
    ):
        response = login(request.getfixturevalue(outsider)).get(
            f"/api/v1/patients/{alice.pk}/alliance"
        )
        assert response.status_code == 404

    def test_it_is_not_for_patients(self, login, alice):
        response = login(alice).get(f"/api/v1/patients/{alice.pk}/alliance")
        assert response.status_code == 403


@pytest.mark.urls(URLS)
class TestAllianceOnThePatientPage:
    def test_the_patient_page_shows_subscales_and_the_rupture(self, login, sam, alice, ruptured):
        page = login(sam).get(reverse("analytics:patient", args=[alice.pk])).content.decode()
        assert "Goal" in page and "Bond" in page
        assert "the mean fell from 4.33 to 3.25" in page
        assert "repaired" in page
