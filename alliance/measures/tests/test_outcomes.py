"""Reliable change, episode outcomes (reference §5.2) and the rupture rule (§8), by hand."""

import math

import pytest

from alliance.measures.instruments import get_instrument, parse_instrument
from alliance.measures.outcomes import (
    OutcomeError,
    ReliableChange,
    Rupture,
    episode_outcome,
    find_ruptures,
    reliable_change,
)

IMPROVEMENT = ReliableChange.IMPROVEMENT
NONE = ReliableChange.NO_RELIABLE_CHANGE
DETERIORATION = ReliableChange.DETERIORATION


class TestReliableChange:
    @pytest.mark.parametrize(
        ("code", "first", "last", "expected"),
        [
            ("phq9", 15, 9, IMPROVEMENT),  # -6: the threshold is inclusive
            ("phq9", 15, 10, NONE),  # -5: the MCID some apps use, not NHS's 6
            ("phq9", 15, 15, NONE),
            ("phq9", 9, 14, NONE),
            ("phq9", 9, 15, DETERIORATION),
            ("phq9", 27, 0, IMPROVEMENT),
            ("gad7", 12, 8, IMPROVEMENT),  # -4
            ("gad7", 12, 9, NONE),
            ("gad7", 8, 11, NONE),
            ("gad7", 8, 12, DETERIORATION),  # +4
        ],
    )
    def test_it_uses_the_nhs_thresholds(self, code, first, last, expected):
        assert reliable_change(get_instrument(code), first, last) is expected

    def test_it_refuses_an_instrument_without_a_threshold(self):
        with pytest.raises(ValueError, match="WAI-SR has no reliable-change threshold"):
            reliable_change(get_instrument("wai-sr"), 30, 50)

    def test_it_reads_direction_from_the_instrument(self):
        wellbeing = parse_instrument(
            """
code: wellbeing
name: Wellbeing
title: A made-up measure where higher is better
kind: questionnaire
licensed: false
licence: test
scoring: {answer: option_index, options_per_item: 2, mean: false}
items:
  - key: q1
    text: I feel fine
    options: [{value: 0, score: 0, label: "No"}, {value: 1, score: 1, label: "Yes"}]
reliable_change: {threshold: 1, better: higher}
""",
            source="wellbeing.yaml",
        )

        assert reliable_change(wellbeing, 0, 1) is IMPROVEMENT
        assert reliable_change(wellbeing, 1, 0) is DETERIORATION


def outcome(phq9, gad7, contacts):
    return episode_outcome(phq9_scores=phq9, gad7_scores=gad7, treatment_contacts=contacts)


F, T, N = False, True, None


class TestEpisodeOutcome:
    # Columns: finished, at_caseness, recovered, reliably_improved, reliably_deteriorated,
    # reliably_recovered - each worked out from §5.2 by hand.
    @pytest.mark.parametrize(
        ("phq9", "gad7", "contacts", "expected"),
        [
            # Not finished (one contact): in no outcome denominator.
            pytest.param([15, 5], [12, 4], 1, (F, T, N, N, N, N), id="one-contact"),
            pytest.param([15, 5], [12, 4], 0, (F, T, N, N, N, N), id="no-contact"),
            # Finished but not paired: GAD-7 has only a first score.
            pytest.param([15, 5], [12], 3, (T, T, N, N, N, N), id="gad7-unpaired"),
            pytest.param([15], [12, 4], 3, (T, T, N, N, N, N), id="phq9-unpaired"),
            # Not at caseness: recovery undefined, reliable change still counted.
            pytest.param([9, 2], [7, 1], 4, (T, F, N, T, F, N), id="not-case-improved"),
            pytest.param([9, 9], [7, 7], 4, (T, F, N, F, F, N), id="not-case-unchanged"),
            pytest.param([3, 9], [2, 6], 4, (T, F, N, F, T, N), id="not-case-deteriorated"),
            # At caseness, recovered and reliably improved: reliable recovery.
            pytest.param([15, 12, 8], [12, 9, 6], 6, (T, T, T, T, F, T), id="reliable-recovery"),
            # Recovered (both below caseness) without reliable improvement.
            pytest.param([10, 9], [8, 7], 2, (T, T, T, F, F, F), id="recovered-not-reliable"),
            # Reliably improved (PHQ-9 -6 exactly) but still a case.
            pytest.param([20, 14], [10, 10], 5, (T, T, F, T, F, F), id="improved-not-recovered"),
            # Reliable improvement on GAD-7 alone (-4 exactly); PHQ-9 -5 is not reliable.
            pytest.param([14, 9], [12, 8], 5, (T, T, F, T, F, F), id="gad7-alone-improves"),
            pytest.param([14, 9], [12, 9], 5, (T, T, F, F, F, F), id="both-just-short"),
            # Reliable deterioration (PHQ-9 +6 exactly), no reliable decrease on GAD-7.
            pytest.param([10, 16], [8, 8], 3, (T, T, F, F, T, F), id="phq9-deteriorates"),
            pytest.param([10, 10], [8, 12], 3, (T, T, F, F, T, F), id="gad7-deteriorates"),
            # Mixed: one reliably down, the other reliably up: neither improved nor worse.
            pytest.param([20, 12], [5, 9], 4, (T, T, F, F, F, F), id="mixed"),
            pytest.param([15, 4], [3, 7], 4, (T, T, T, F, F, F), id="mixed-yet-recovered"),
            # Recovery needs both last scores below caseness.
            pytest.param([15, 9], [10, 8], 4, (T, T, F, T, F, F), id="gad7-still-a-case"),
            pytest.param([15, 10], [10, 2], 4, (T, T, F, T, F, F), id="phq9-still-a-case"),
            # Caseness from the first GAD-7 alone (>= 8, although "mild").
            pytest.param([9, 3], [8, 3], 4, (T, T, T, T, F, T), id="case-by-gad7-8"),
            pytest.param([9, 3], [7, 3], 4, (T, F, N, T, F, N), id="gad7-7-not-a-case"),
            # Only the first and the last score count; those in between are ignored.
            pytest.param([15, 2, 27, 9], [10, 21, 0, 7], 8, (T, T, T, T, F, T), id="middle"),
        ],
    )
    def test_it_follows_section_5_2(self, phq9, gad7, contacts, expected):
        result = outcome(phq9, gad7, contacts)

        actual = (
            result.finished_treatment,
            result.at_caseness,
            result.recovered,
            result.reliably_improved,
            result.reliably_deteriorated,
            result.reliably_recovered,
        )
        assert actual == expected

    def test_it_counts_two_treatment_contacts_as_finished(self):
        assert outcome([15, 5], [12, 4], 2).finished_treatment is True
        assert outcome([15, 5], [12, 4], 1).finished_treatment is False

    def test_it_gives_the_signed_first_to_last_changes(self):
        result = outcome([15, 12, 8], [12, 9, 6], 6)

        assert result.phq9_change == -7
        assert result.gad7_change == -6

    def test_it_gives_no_change_with_fewer_than_two_scores(self):
        result = outcome([15], [], 6)

        assert result.phq9_change is None
        assert result.gad7_change is None

    def test_it_leaves_caseness_undefined_without_scores(self):
        result = outcome([], [], 3)

        assert result.at_caseness is None
        assert result.recovered is None
        assert result.reliably_improved is None

    def test_it_finds_caseness_from_one_measure_when_that_one_is_a_case(self):
        assert outcome([12], [], 1).at_caseness is True
        assert outcome([], [8], 1).at_caseness is True

    def test_it_leaves_caseness_undefined_when_the_missing_measure_could_decide(self):
        assert outcome([5], [], 1).at_caseness is None
        assert outcome([], [3], 1).at_caseness is None

    def test_it_prints_only_the_six_flags(self):
        assert outcome([15, 5], [12], 1).as_dict() == {
            "finished_treatment": False,
            "at_caseness": True,
            "recovered": None,
            "reliably_improved": None,
            "reliably_deteriorated": None,
            "reliably_recovered": None,
        }

    @pytest.mark.parametrize(
        ("phq9", "gad7", "contacts", "message"),
        [
            ([15, 28], [12], 2, "phq9 score 2: 28 is out of range 0–27"),
            ([15, -1], [12], 2, "phq9 score 2: -1 is out of range 0–27"),
            ([15], [22], 2, "gad7 score 1: 22 is out of range 0–21"),
            ([15, "x"], [12], 2, "phq9 score 2: 'x' is not an integer"),
            (["", 5], [12], 2, "phq9 score 1: no score given"),
            ([15], [12, None], 2, "gad7 score 2: no score given"),
            ("15,5", [12], 2, "phq9: expected a list of total scores"),
            ([15], [12], -1, "contacts: -1 is negative"),
            ([15], [12], "two", "contacts: 'two' is not an integer"),
            ([15], [12], 1.5, "contacts: 1.5 is not an integer"),
            ([15], [12], None, "contacts: the number of treatment contacts is required"),
        ],
    )
    def test_it_names_the_field_and_the_reason_for_bad_input(self, phq9, gad7, contacts, message):
        with pytest.raises(OutcomeError) as error:
            outcome(phq9, gad7, contacts)

        assert str(error.value) == message

    def test_it_accepts_totals_and_contacts_given_as_text(self):
        result = outcome(["15", "8"], ["12", "6"], "3")

        assert result.reliably_recovered is True


class TestFindRuptures:
    def test_it_flags_a_drop_of_k_sample_sds(self):
        ruptures = find_ruptures([4.0, 4.0, 4.0, 2.0], sample_sd=0.5)

        assert ruptures == [Rupture(index=3, drop=2.0, sigma=0.5, length=1, repaired=None)]

    def test_it_includes_a_drop_of_exactly_k_sds(self):
        assert [r.index for r in find_ruptures([4.0, 3.0], sample_sd=0.5)] == [1]

    def test_it_ignores_a_drop_just_under_k_sds(self):
        assert find_ruptures([4.0, 3.1], sample_sd=0.5) == []

    def test_it_treats_a_rise_as_no_rupture(self):
        assert find_ruptures([2.0, 4.0, 5.0], sample_sd=0.1) == []

    def test_it_flags_smaller_drops_with_a_smaller_k(self):
        scores = [4.0, 3.5]

        assert find_ruptures(scores, sample_sd=0.5, k=2) == []
        assert [r.index for r in find_ruptures(scores, sample_sd=0.5, k=1)] == [1]

    def test_it_handles_wai_sr_means_at_the_boundary(self):
        # 49/12 to 43/12 is a drop of exactly 0.5 = 2 x 0.25, though floats give 0.4999...
        assert 49 / 12 - 43 / 12 < 0.5
        assert [r.index for r in find_ruptures([49 / 12, 43 / 12], sample_sd=0.25)] == [1]

    def test_it_marks_a_rupture_repaired_within_the_window(self):
        # Target: back to 4.0 - 0.5 x 0.5 = 3.75 within 2 sessions.
        ruptures = find_ruptures([4.0, 4.0, 2.5, 3.0, 3.8], sample_sd=0.5)

        assert ruptures == [Rupture(index=2, drop=1.5, sigma=0.5, length=3, repaired=True)]

    def test_it_marks_a_rupture_repaired_at_the_first_session_after(self):
        ruptures = find_ruptures([4.0, 4.0, 2.5, 3.9], sample_sd=0.5)

        assert ruptures[0].repaired is True
        assert ruptures[0].length == 2  # 2.5 and 3.9 are both below 4.0

    def test_it_marks_a_rupture_unrepaired_when_the_window_passes(self):
        ruptures = find_ruptures([4.0, 2.5, 3.0, 3.7, 4.0], sample_sd=0.5)

        assert ruptures == [Rupture(index=1, drop=1.5, sigma=0.5, length=3, repaired=False)]

    def test_it_leaves_repair_open_while_the_window_is_open(self):
        assert find_ruptures([4.0, 2.5, 3.0], sample_sd=0.5)[0].repaired is None

    def test_it_honours_a_longer_repair_window(self):
        scores = [4.0, 2.5, 3.0, 3.7, 4.0]

        assert find_ruptures(scores, sample_sd=0.5, repair_window=3)[0].repaired is True

    def test_it_uses_the_patients_own_sd_once_enough_sessions_precede(self):
        # Differences before the last session: +0.5, -0.5, +0.5; mean 1/6; squared
        # deviations 1/9 + 4/9 + 1/9 = 2/3; sample variance 1/3; SD = sqrt(1/3) ~ 0.577.
        scores = [3.5, 4.0, 3.5, 4.0, 3.4]

        assert find_ruptures(scores, sample_sd=0.3) == []  # 0.6 < 2 x 0.577

        sample_only = find_ruptures(scores, sample_sd=0.3, min_sessions=10)
        assert [(r.index, r.sigma) for r in sample_only] == [(4, 0.3)]  # 0.6 >= 2 x 0.3

    def test_it_judges_against_the_sample_sd_when_the_patients_is_smaller(self):
        ruptures = find_ruptures([4.0, 4.0, 4.0, 4.0, 3.0], sample_sd=0.25)

        assert [(r.index, r.sigma) for r in ruptures] == [(4, 0.25)]

    def test_it_leaves_the_drop_out_of_the_sd_it_is_judged_against(self):
        # Own differences before t=5: +0.1, -0.1, +0.1, -0.1 -> SD = sqrt(0.04 / 3) ~ 0.115.
        ruptures = find_ruptures([4.0, 4.1, 4.0, 4.1, 4.0, 3.0], sample_sd=0.06)

        assert len(ruptures) == 1
        assert ruptures[0].index == 5
        assert math.isclose(ruptures[0].sigma, math.sqrt(0.04 / 3))

    def test_it_finds_nothing_in_a_short_series(self):
        assert find_ruptures([], sample_sd=0.5) == []
        assert find_ruptures([4.0], sample_sd=0.5) == []

    @pytest.mark.parametrize(
        ("parameters", "message"),
        [
            ({"sample_sd": 0}, "sample_sd must be positive"),
            ({"sample_sd": 0.5, "k": 0}, "k must be positive"),
            ({"sample_sd": 0.5, "repair_window": 0}, "repair_window must be at least 1"),
            ({"sample_sd": 0.5, "repair_margin": -1}, "repair_margin must not be negative"),
            ({"sample_sd": 0.5, "min_sessions": 2}, "min_sessions must be at least 3"),
        ],
    )
    def test_it_refuses_parameters_that_make_no_sense(self, parameters, message):
        with pytest.raises(ValueError, match=message):
            find_ruptures([4.0, 3.0], **parameters)
