"""The analytics demo data: realistic trajectories, ruptures and outcomes, added once."""

from datetime import date

import pytest
from django.core.management import call_command

from alliance.accounts import policy
from alliance.accounts.models import Service, User
from alliance.insights import demo
from alliance.insights.alliance_scores import alliance_drops
from alliance.insights.models import (
    ActivitySession,
    Alert,
    AlertKind,
    EngagementClass,
    EngagementLabel,
    PatientDay,
)
from alliance.insights.report import ReportFilter, service_report
from alliance.measures.models import Response


@pytest.fixture
def demo_service(db):
    call_command("demo", verbosity=0)
    return Service.objects.get(slug="riverside")


class TestDemo:
    def test_it_shows_trajectories_ruptures_and_outcomes_and_adds_nothing_twice(self, demo_service):
        assert PatientDay.objects.exists()  # `alliance demo` ran the insights demo
        assert demo.populate() == 0

        labels = set(EngagementClass.objects.values_list("label", flat=True))
        assert labels >= {
            EngagementLabel.SUSTAINED,
            EngagementLabel.EARLY_DROP_OFF,
            EngagementLabel.LAPSED_AND_RESUMED,
            EngagementLabel.LATE_DISENGAGEMENT,
            EngagementLabel.LOW_THROUGHOUT,
        }

        supervisor = User.objects.get(email="supervisor@demo.example")
        drops = alliance_drops(policy.patients_visible_to(supervisor), supervisor)
        assert any(row.found.repaired is not True for row in drops)
        ruptures = Alert.objects.filter(kind=AlertKind.RUPTURE)
        assert ruptures.exists()
        assert {r.owner for r in ruptures} == {supervisor.staff_profile}

        today = date.today()
        found = {
            row.key: row
            for row in service_report(
                ReportFilter(demo_service, today.replace(year=today.year - 1), today)
            ).rows()
        }
        assert found["finished"].value > 10
        assert found["recovery"].value is not None
        assert found["drop_out"].value is not None
        assert found["median_wait_days"].value is not None

        counts = (
            ActivitySession.objects.count(),
            Response.objects.count(),
            PatientDay.objects.count(),
            Alert.objects.count(),
            User.objects.count(),
        )
        assert demo.populate() == 0
        assert (
            ActivitySession.objects.count(),
            Response.objects.count(),
            PatientDay.objects.count(),
            Alert.objects.count(),
            User.objects.count(),
        ) == counts
