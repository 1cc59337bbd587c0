"""The questionnaire schedule, tested directly."""

from datetime import UTC, datetime, timedelta

from alliance.measures.schedules import ContactFact, EpisodeFacts, planned_questionnaires

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LICENSED = {"epds", "wai-sr"}


def facts(contacts=(), ended=None, problems=("depression",), middle=None):
    return EpisodeFacts(
        started_at=START,
        ended_at=ended,
        problems=tuple(problems),
        contacts=tuple(contacts),
        middle_reached_at=middle,
    )


def contact(n, status="attended"):
    return ContactFact(id=n, scheduled_at=START + timedelta(days=7 * n), status=status)


def plan(f, licensed=LICENSED):
    return {
        (p.instrument, p.occasion): p
        for p in planned_questionnaires(f, licensed=licensed, needs_licence=LICENSED)
    }


class TestEveryContact:
    def test_it_sends_phq9_gad7_and_wsas_at_every_treatment_contact(self):
        planned = plan(facts([contact(1), contact(2, "scheduled")]))
        for n in (1, 2):
            for code in ("phq9", "gad7", "wsas"):
                assert (code, f"contact:{n}") in planned

    def test_it_opens_two_days_before_and_is_due_at_the_contact(self):
        p = plan(facts([contact(1)]))[("phq9", "contact:1")]
        assert p.due_at == START + timedelta(days=7)
        assert p.available_from == START + timedelta(days=5)

    def test_it_sends_nothing_for_cancelled_or_missed_contacts(self):
        planned = plan(facts([contact(1, "cancelled"), contact(2, "dna")]))
        assert not [k for k in planned if k[1].startswith("contact:")]


class TestAlliance:
    def test_it_sends_the_wai_sr_at_the_third_treatment_contact(self):
        planned = plan(facts([contact(1), contact(2, "cancelled"), contact(3), contact(4)]))
        p = planned[("wai-sr", "contact_no:3")]
        assert p.available_from == START + timedelta(days=28)  # the third that counts is no. 4

    def test_it_waits_for_three_contacts(self):
        assert ("wai-sr", "contact_no:3") not in plan(facts([contact(1), contact(2)]))

    def test_it_sends_the_wai_sr_at_the_end(self):
        end = START + timedelta(days=60)
        assert plan(facts(ended=end))[("wai-sr", "end")].available_from == end

    def test_it_sends_no_unlicensed_instrument(self):
        end = START + timedelta(days=60)
        planned = plan(
            facts([contact(1), contact(2), contact(3)], ended=end, problems=("postpartum",)),
            licensed=set(),
        )
        assert not [k for k in planned if k[0] in ("wai-sr", "epds")]


class TestPostpartum:
    def test_it_sends_the_epds_at_start_middle_and_end(self):
        middle, end = START + timedelta(days=20), START + timedelta(days=42)
        planned = plan(facts(problems=("depression", "postpartum"), middle=middle, ended=end))
        assert planned[("epds", "start")].available_from == START
        assert planned[("epds", "middle")].available_from == middle
        assert planned[("epds", "end")].available_from == end

    def test_it_sends_no_epds_to_other_programmes(self):
        planned = plan(facts(middle=START, ended=START + timedelta(days=9)))
        assert not [k for k in planned if k[0] == "epds"]


class TestFollowUp:
    def test_it_sends_the_feedback_survey_three_months_after_the_end(self):
        end = START + timedelta(days=42)
        p = plan(facts(ended=end))[("feedback", "follow_up")]
        assert p.available_from == end + timedelta(days=90)

    def test_it_sends_no_survey_before_the_end(self):
        assert ("feedback", "follow_up") not in plan(facts())
