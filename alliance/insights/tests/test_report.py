"""The service report: outcomes computed in the database by the measures app's rules, the
other figures, filters, bad input, the page, its CSV and the API."""

import csv
import io
import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.accounts.models import Patient, Role, Team
from alliance.care.models import ContactStatus, Episode
from alliance.conftest import make_patient, make_programme, make_staff
from alliance.insights import report
from alliance.insights.models import EngagementClass
from alliance.insights.report import Outcomes, ReportFilter, outcome_groups, service_report
from alliance.insights.tests.analytics_factories import attended, contact, review, score
from alliance.measures.selectors import outcome_of

URLS = "alliance.insights.tests.analytics_urls"
START, END = date(2026, 1, 1), date(2026, 3, 31)


def moment(day: int, hour: int = 12) -> datetime:
    """Day ``day`` of the period (0 = 1 January 2026), at noon UTC."""
    return datetime(2026, 1, 1, hour, tzinfo=UTC) + timedelta(days=day)


def ended_episode(
    patient,
    programme,
    *,
    started: datetime,
    ended: datetime,
    reason="completed",
    care_model="blended",
):
    return Episode.objects.create(
        patient=patient,
        programme=programme,
        care_model=care_model,
        supporter=patient.supporter,
        status="ended",
        started_at=started,
        ended_at=ended,
        end_reason=reason,
    )


def expected_outcomes(episodes) -> Outcomes:
    """The counts by ``episode_outcome`` (through ``measures.selectors.outcome_of``)."""
    counts = dict.fromkeys(report.OUTCOME_FIELDS, 0)
    for episode in episodes:
        outcome = outcome_of(episode)
        attended_n = episode.contacts.filter(status=ContactStatus.ATTENDED).count()
        counts["ended"] += 1
        counts["finished"] += outcome.finished_treatment
        counts["paired"] += outcome.reliably_improved is not None
        counts["at_caseness"] += outcome.recovered is not None
        counts["recovered"] += outcome.recovered is True
        counts["reliably_improved"] += outcome.reliably_improved is True
        counts["reliably_deteriorated"] += outcome.reliably_deteriorated is True
        counts["reliably_recovered"] += outcome.reliably_recovered is True
        counts["dropped_out"] += episode.end_reason == "dropped_out" or attended_n == 1
        counts["began_treatment"] += episode.end_reason == "dropped_out" or attended_n >= 1
    return Outcomes(**counts)


class TestOutcomesInTheDatabase:
    def test_they_equal_episode_outcome_for_many_generated_episodes(self, alice, programme):
        rng = random.Random(20260301)
        episodes = []
        for n in range(150):
            started = moment(rng.randint(0, 40))
            episode = ended_episode(
                alice,
                programme,
                started=started,
                ended=started + timedelta(days=50),
                reason=rng.choice(["completed", "dropped_out", "declined", "other"]),
            )
            for c in range(rng.choice([0, 1, 1, 2, 3, 5])):
                attended(episode, started + timedelta(days=c))
            if rng.random() < 0.3:
                contact(episode, ContactStatus.DID_NOT_ATTEND, started + timedelta(days=9))
            for code, high in (("phq9", 27), ("gad7", 21)):
                for k in range(rng.choice([0, 1, 2, 2, 3, 4])):
                    # Scores near the thresholds most of the time, where mistakes hide.
                    total = rng.choice([rng.randint(0, high), rng.randint(5, 14)])
                    score(episode, code, total, started + timedelta(days=k * 7, minutes=n))
            episodes.append(episode)

        found = outcome_groups(Episode.objects.filter(pk__in=[e.pk for e in episodes]))

        assert found[""] == expected_outcomes(episodes)
        assert found[""].paired > 10 and found[""].at_caseness > 5  # the cases were covered

    def test_a_tie_in_time_is_broken_by_the_later_response(self, alice, programme):
        episode = ended_episode(alice, programme, started=moment(0), ended=moment(40))
        attended(episode, moment(1))
        attended(episode, moment(2))
        for code, first, last in (("phq9", 15, 8), ("gad7", 12, 5)):
            score(episode, code, first, moment(1))
            score(episode, code, 20, moment(5))
            score(episode, code, last, moment(5))  # same time: the later one is the last
        assert outcome_groups(Episode.objects.all())[""] == expected_outcomes([episode])

    def test_they_are_grouped_by_month_of_the_end(self, alice, programme):
        for day in (5, 40, 45):
            ended_episode(alice, programme, started=moment(0), ended=moment(day))
        found = outcome_groups(Episode.objects.all(), group="month", tz=UTC)
        assert {k: v.ended for k, v in found.items()} == {"2026-01": 1, "2026-02": 2}


@pytest.fixture
def scene(riverside, north, south, sam, priya, programme, alice, bob):
    """Riverside in the first quarter of 2026.

    - Alice (North, blended): ended 10 Feb, finished, at caseness, recovered and reliably
      improved; waited 7 days for her first contact; 30 + 20 minutes of contacts, a
      15-minute review.
    - Bob (South, guided self-help): ended 1 Mar, dropped out after one contact (45 min),
      waited 14 days.
    - Dan (North, blended): still active, no contact yet; registered in the period.
    """
    alices = ended_episode(alice, programme, started=moment(0), ended=moment(40))
    attended(alices, moment(7), minutes=30)
    attended(alices, moment(14), minutes=20)
    review(alices, moment(20), minutes=15)
    score(alices, "phq9", 16, moment(7))
    score(alices, "gad7", 12, moment(7))
    score(alices, "phq9", 6, moment(35))
    score(alices, "gad7", 5, moment(35))
    bobs = ended_episode(
        bob,
        programme,
        started=moment(10),
        ended=moment(59),
        reason="dropped_out",
        care_model="guided_self_help",
    )
    attended(bobs, moment(24), minutes=45)
    contact(bobs, ContactStatus.DID_NOT_ATTEND, moment(31))
    dan = make_patient(riverside, north, "Dan Newpatient", supporter=sam)
    Episode.objects.create(
        patient=dan,
        programme=programme,
        care_model="blended",
        supporter=sam,
        started_at=moment(50),
    )
    Patient.objects.filter(pk__in=[alice.pk, bob.pk]).update(created_at=moment(-30))
    Patient.objects.filter(pk=dan.pk).update(created_at=moment(49))
    EngagementClass.objects.create(
        episode=alices, label="sustained", curve=[3] * 6, computed_at=moment(60)
    )
    return {"alice": alices, "bob": bobs}


def figures(found) -> dict:
    return {row.key: row for row in found.rows()}


class TestServiceReport:
    def test_it_counts_the_period(self, riverside, scene):
        found = figures(service_report(ReportFilter(riverside, START, END)))
        assert found["referrals"].value == 1
        assert found["active_episodes"].value == 3
        assert found["median_wait_days"].value == 10.5  # 7 and 14 days
        assert found["ended"].value == 2
        assert found["finished"].value == 1
        assert (found["recovery"].value, found["recovery"].numerator) == (100.0, 1)
        assert found["reliable_improvement"].value == 100.0
        assert found["reliable_deterioration"].value == 0.0
        assert found["reliable_recovery"].value == 100.0
        assert (found["drop_out"].numerator, found["drop_out"].denominator) == (1, 2)
        assert found["supporter_minutes"].value == 30 + 20 + 15 + 45
        assert found["minutes_per_patient"].value == round(110 / 3, 1)
        assert found["minutes_per_recovered"].value == 110.0
        assert found["class_sustained"].value == 1
        assert found["class_none"].value == 2

    def test_a_contact_without_recorded_minutes_counts_its_booked_length(self, riverside, scene):
        attended(scene["alice"], moment(21))  # 30 minutes booked
        found = figures(service_report(ReportFilter(riverside, START, END)))
        assert found["supporter_minutes"].value == 140

    def test_it_filters_by_team_programme_and_care_model(self, riverside, north, scene):
        by_team = figures(service_report(ReportFilter(riverside, START, END, team=north)))
        assert by_team["active_episodes"].value == 2 and by_team["ended"].value == 1
        assert by_team["referrals"].value == 1
        by_model = figures(
            service_report(ReportFilter(riverside, START, END, care_model="guided_self_help"))
        )
        assert by_model["ended"].value == 1 and by_model["drop_out"].value == 100.0
        other = make_programme(key="other")
        Episode.objects.filter(pk=scene["bob"].pk).update(programme=other)
        by_programme = figures(
            service_report(ReportFilter(riverside, START, END, programme="other"))
        )
        assert by_programme["active_episodes"].value == 1

    def test_an_empty_period_has_no_rates(self, riverside, scene):
        empty = ReportFilter(riverside, date(2025, 1, 1), date(2025, 1, 31))
        found = figures(service_report(empty))
        assert found["recovery"].value is None and found["median_wait_days"].value is None
        assert found["minutes_per_patient"].value is None

    def test_it_uses_the_services_calendar(self, riverside, alice, programme):
        # 23:30 UTC on 31 March is 00:30 on 1 April in London (summer time).
        ended_episode(
            alice, programme, started=moment(0), ended=datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
        )
        found = figures(service_report(ReportFilter(riverside, START, END)))
        assert found["ended"].value == 0


@pytest.mark.urls(URLS)
class TestReportPage:
    url = "/insights/analytics/report/"
    period = {"start": "2026-01-01", "end": "2026-03-31"}

    def test_a_manager_reads_the_report_with_its_charts(self, login, ruth, scene):
        response = login(ruth).get(self.url, self.period)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Recovery" in page and "100.0%" in page
        assert page.count("<svg") == 2  # the rates, and the months

    def test_the_page_and_the_csv_show_the_same_numbers(self, login, ruth, scene):
        client = login(ruth)
        page = client.get(self.url, self.period).content.decode()
        download = client.get(self.url, {**self.period, "format": "csv"})
        assert download["Content-Type"].startswith("text/csv")
        assert "attachment" in download["Content-Disposition"]
        lines = list(csv.reader(io.StringIO(download.content.decode())))
        header = lines.index(["figure", "label", "value", "numerator", "denominator", "unit"])
        csv_values = {}
        for line in lines[header + 1 :]:
            if not line:
                break
            csv_values[line[0]] = line[2]
        shown = dict(re.findall(r'data-figure="([a-z_]+)">([^<]*)<', page))
        assert set(shown) == set(csv_values)
        for key, cell in shown.items():
            number = re.match(r"[-\d.]+", cell)
            if csv_values[key] == "":
                assert cell.strip() == "–"
            else:
                assert float(number.group()) == pytest.approx(float(csv_values[key])), key

    def test_an_administrator_reads_it_too(self, login, ada, scene):
        assert login(ada).get(self.url, self.period).status_code == 200

    def test_with_no_filter_it_shows_the_last_twelve_months(self, login, ruth):
        response = login(ruth).get(self.url)
        assert response.status_code == 200
        wanted = response.context["report"].filter
        assert (wanted.end - wanted.start).days in (364, 365)

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            (
                {"start": "2026-03-01", "end": "2026-01-01"},
                "To",
                "The end date is before the start date.",
            ),
            ({"start": "2026-13-01"}, "From", "Enter a date as YYYY-MM-DD."),
            (
                {"start": "2016-01-01", "end": "2026-01-01"},
                "To",
                "Choose a period of at most five years.",
            ),
            ({"team": "999999"}, "Team", "Choose a team of your service."),
            ({"team": "north"}, "Team", "Choose a team of your service."),
            ({"programme": "nope"}, "Programme", "There is no programme with this key."),
            ({"care_model": "telepathy"}, "Care model", "Choose one of the care models."),
        ],
    )
    def test_a_filter_that_makes_no_sense_is_named_and_no_report_is_made(
        self, login, ruth, scene, params, field, message
    ):
        response = login(ruth).get(self.url, params)
        assert response.status_code == 400
        assert response.context["report"] is None
        page = response.content.decode()
        assert f"{field}: {message}" in page
        assert "data-figure" not in page

    def test_a_team_of_another_service_is_refused(self, login, ruth, hill_team, scene):
        response = login(ruth).get(self.url, {"team": str(hill_team.pk)})
        assert response.status_code == 400
        assert "Team: Choose a team of your service." in response.content.decode()

    def test_a_manager_sees_only_their_own_service(self, login, hillside, scene):
        other = make_staff(hillside, Role.SERVICE_MANAGER, "Hugh Hillmanager")
        found = login(other).get(self.url, self.period).context["report"]
        assert found.filter.service == hillside
        assert figures(found)["active_episodes"].value == 0
        assert figures(found)["ended"].value == 0

    @pytest.mark.parametrize(
        "outsider", ["sam", "morgan", "nia", "tomasz", "hana", "oscar", "alice"]
    )
    def test_it_is_refused_to_everyone_else(self, request, login, outsider, scene):
        client = login(request.getfixturevalue(outsider))
        assert client.get(self.url, self.period).status_code == 403
        assert client.get(self.url, {**self.period, "format": "csv"}).status_code == 403

    def test_it_runs_a_fixed_number_of_queries(self, login, ruth, riverside, north, programme):
        client = login(ruth)
        client.get(self.url, self.period)
        counts = []
        for size in (2, 20):
            for n in range(size):
                patient = make_patient(riverside, north, f"R{size}x{n} Test")
                episode = ended_episode(patient, programme, started=moment(n), ended=moment(n + 40))
                attended(episode, moment(n + 2))
                attended(episode, moment(n + 9))
                score(episode, "phq9", 14, moment(n + 2))
                score(episode, "phq9", 6, moment(n + 30))
            with CaptureQueriesContext(connection) as queries:
                assert client.get(self.url, self.period).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]


@pytest.mark.urls(URLS)
class TestGetServiceReport:
    url = "/api/v1/insights/report"

    def test_it_gives_the_same_figures_as_the_page(self, login, ruth, scene):
        client = login(ruth)
        body = client.get(self.url, {"start": "2026-01-01", "end": "2026-03-31"}).json()
        page = client.get(
            "/insights/analytics/report/", {"start": "2026-01-01", "end": "2026-03-31"}
        )
        assert {f["key"]: f["value"] for f in body["figures"]} == {
            row.key: row.value for row in page.context["rows"]
        }
        assert body["filter"]["start"] == "2026-01-01"
        assert [m["month"] for m in body["by_month"]] == ["2026-02", "2026-03"]

    def test_bad_filters_are_422_naming_each_field(self, login, ruth, hill_team):
        response = login(ruth).get(
            self.url, {"start": "2026-03-01", "end": "2026-01-01", "team": str(hill_team.pk)}
        )
        assert response.status_code == 422
        assert set(response.json()["error"]["fields"]) == {"end", "team"}

    @pytest.mark.parametrize("outsider", ["sam", "oscar", "tomasz"])
    def test_it_is_forbidden_to_others(self, request, login, outsider):
        response = login(request.getfixturevalue(outsider)).get(self.url)
        assert response.status_code == 403


def test_the_team_filter_choices_are_the_services_own(riverside, north, south, hill_team):
    from alliance.insights.forms_analytics import ReportFilterForm

    form = ReportFilterForm({}, service=riverside)
    assert {label for _value, label in form.fields["team"].widget.choices[1:]} == {
        team.name for team in Team.objects.filter(service=riverside)
    }


@pytest.mark.urls(URLS)
class TestAnalyticsIndex:
    url = "/insights/analytics/"

    def test_it_links_what_each_role_may_open(self, login, ruth, ada, morgan):
        page = login(ruth).get(self.url).content.decode()
        assert "Service report" in page and "Alliance ruptures" in page
        assert "Alert and rupture settings" not in page
        assert "Alert and rupture settings" in login(ada).get(self.url).content.decode()
        assert "Service report" not in login(morgan).get(self.url).content.decode()

    @pytest.mark.parametrize("outsider", ["sam", "nia", "tomasz", "hana", "alice"])
    def test_it_is_refused_to_others(self, request, login, outsider):
        assert login(request.getfixturevalue(outsider)).get(self.url).status_code == 403
