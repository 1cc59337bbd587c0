"""score_answers against the rules of reference/measures.md §1-4 and §9, worked out by hand."""

import pytest

from alliance.measures.instruments import get_instrument
from alliance.measures.scoring import ScoringError, read_integer, score_answers


def score(code, answers, **kwargs):
    return score_answers(get_instrument(code), answers, **kwargs)


class TestPhq9Scoring:
    # Every band edge of §1 (0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe,
    # 20-27 severe) and the caseness edge (>= 10). Item 9 is 0 unless the row says otherwise.
    @pytest.mark.parametrize(
        ("answers", "total", "severity", "caseness"),
        [
            ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "minimal", False),
            ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal", False),
            ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild", False),
            ([2, 2, 2, 1, 1, 1, 0, 0, 0], 9, "mild", False),
            ([2, 2, 2, 2, 2, 0, 0, 0, 0], 10, "moderate", True),
            ([2, 2, 2, 2, 2, 2, 2, 0, 0], 14, "moderate", True),
            ([3, 3, 3, 3, 3, 0, 0, 0, 0], 15, "moderately_severe", True),
            ([3, 3, 3, 3, 3, 2, 2, 0, 0], 19, "moderately_severe", True),
            ([3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe", True),
            ([3, 3, 3, 3, 3, 3, 3, 3, 0], 24, "severe", True),
            ([3, 3, 3, 3, 3, 3, 3, 3, 3], 27, "severe", True),
        ],
    )
    def test_it_sums_items_into_total_band_and_caseness(self, answers, total, severity, caseness):
        result = score("phq9", answers)

        assert result.instrument == "phq9"
        assert result.total == total
        assert result.severity == severity
        assert result.caseness is caseness
        assert result.item_scores == tuple(answers)  # the index is the score
        assert result.subscales == {}
        assert result.mean is None

    def test_it_raises_risk_on_item_9_whatever_the_total(self):
        result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])

        assert result.total == 1
        assert result.severity == "minimal"
        assert result.risk is True
        assert result.risk_items == (9,)

    @pytest.mark.parametrize("item_9", [1, 2, 3])
    def test_it_raises_risk_for_every_non_zero_item_9(self, item_9):
        assert score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, item_9]).risk is True

    def test_it_raises_no_risk_when_item_9_is_zero_even_when_severe(self):
        result = score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])

        assert result.total == 24
        assert result.risk is False
        assert result.risk_items == ()

    @pytest.mark.parametrize("difficulty", [0, 1, 2, 3, "3"])
    def test_it_never_adds_the_difficulty_answer_to_the_total(self, difficulty):
        result = score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1], difficulty=difficulty)

        assert result.total == 9
        assert result.difficulty == int(difficulty)

    def test_it_leaves_difficulty_empty_when_not_given(self):
        assert score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1]).difficulty is None

    def test_it_refuses_a_difficulty_out_of_range(self):
        with pytest.raises(ScoringError) as error:
            score("phq9", [0] * 9, difficulty=4)

        assert str(error.value) == "difficulty: 4 is out of range 0–3"
        assert error.value.item == "difficulty"


class TestGad7Scoring:
    # §2 bands: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe; NHS caseness >= 8.
    @pytest.mark.parametrize(
        ("answers", "total", "severity", "caseness"),
        [
            ([0, 0, 0, 0, 0, 0, 0], 0, "minimal", False),
            ([1, 1, 1, 1, 0, 0, 0], 4, "minimal", False),
            ([1, 1, 1, 1, 1, 0, 0], 5, "mild", False),
            ([1, 1, 1, 1, 1, 1, 1], 7, "mild", False),
            ([2, 1, 1, 1, 1, 1, 1], 8, "mild", True),  # a case, yet "mild"
            ([2, 2, 1, 1, 1, 1, 1], 9, "mild", True),
            ([2, 2, 2, 1, 1, 1, 1], 10, "moderate", True),
            ([2, 2, 2, 2, 2, 2, 2], 14, "moderate", True),
            ([3, 2, 2, 2, 2, 2, 2], 15, "severe", True),
            ([3, 3, 3, 3, 3, 3, 3], 21, "severe", True),
        ],
    )
    def test_it_sums_items_into_total_band_and_caseness(self, answers, total, severity, caseness):
        result = score("gad7", answers)

        assert result.total == total
        assert result.severity == severity
        assert result.caseness is caseness

    def test_it_never_raises_risk(self):
        assert score("gad7", [3, 3, 3, 3, 3, 3, 3]).risk is False

    def test_it_takes_a_difficulty_answer(self):
        assert score("gad7", [0] * 7, difficulty=2).difficulty == 2


class TestEpdsScoring:
    # Items 1, 2, 4 score the printed index; items 3 and 5-10 score 3 - index (§3, §9.1).
    def test_it_reverse_keys_items_3_and_5_to_10(self):
        result = score("epds", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])

        assert result.item_scores == (0, 0, 3, 0, 3, 3, 3, 3, 3, 3)
        assert result.total == 21

    def test_it_does_not_add_indices(self):
        # The top option of every item: a scorer adding indices would say 0 and miss a
        # probable depression with thoughts of self-harm "quite often".
        answers = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

        result = score("epds", answers)

        assert sum(answers) == 0
        assert result.total == 21
        assert result.severity == "probable_depression"
        assert result.risk is True

    def test_it_scores_the_bottom_options_as_the_forward_items_only(self):
        result = score("epds", [3, 3, 3, 3, 3, 3, 3, 3, 3, 3])

        assert result.item_scores == (3, 3, 0, 3, 0, 0, 0, 0, 0, 0)
        assert result.total == 9
        assert result.risk is False  # item 10 "Never"

    # 0-9 below_threshold, 10-12 possible_depression, >= 13 probable_depression.
    @pytest.mark.parametrize(
        ("answers", "total", "severity"),
        [
            ([0, 0, 3, 0, 3, 3, 3, 3, 3, 3], 0, "below_threshold"),
            ([3, 3, 3, 3, 3, 3, 3, 3, 3, 3], 9, "below_threshold"),
            ([3, 3, 2, 3, 3, 3, 3, 3, 3, 3], 10, "possible_depression"),
            ([3, 3, 0, 3, 3, 3, 3, 3, 3, 3], 12, "possible_depression"),
            ([3, 3, 0, 3, 2, 3, 3, 3, 3, 3], 13, "probable_depression"),
            ([3, 3, 0, 3, 0, 0, 0, 0, 0, 0], 30, "probable_depression"),
        ],
    )
    def test_it_puts_every_band_edge_in_the_right_band(self, answers, total, severity):
        result = score("epds", answers)

        assert result.total == total
        assert result.severity == severity
        assert result.caseness is None  # NHS caseness is for the PHQ-9 and GAD-7 only

    @pytest.mark.parametrize(
        ("item_10_index", "risk"),
        [(0, True), (1, True), (2, True), (3, False)],  # only "Never" (score 0) is no risk
    )
    def test_it_raises_risk_on_any_item_10_answer_but_never(self, item_10_index, risk):
        result = score("epds", [3, 3, 3, 3, 3, 3, 3, 3, 3, item_10_index])

        assert result.risk is risk
        assert result.risk_items == ((10,) if risk else ())

    def test_it_reports_the_anxiety_3a_subscale_after_keying(self):
        # Item 3 "Yes, most of the time" = 3, item 4 "Yes, sometimes" = 2, item 5
        # "No, not much" = 1.
        result = score("epds", [0, 0, 0, 2, 2, 3, 3, 3, 3, 3])

        assert result.subscales == {"anxiety_3a": 6}
        assert result.mean is None

    def test_it_has_no_difficulty_question(self):
        with pytest.raises(ScoringError) as error:
            score("epds", [0] * 10, difficulty=1)

        assert str(error.value) == "difficulty: EPDS has no difficulty question"


class TestWaiSrScoring:
    def test_it_sums_subscales_and_reports_the_mean(self):
        answers = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]

        result = score("wai-sr", answers)

        assert result.item_scores == tuple(answers)  # ticked values, none reversed
        assert result.total == 33
        # Goal 4, 6, 8, 11: 4 + 1 + 3 + 1; Task 1, 2, 10, 12: 1 + 2 + 5 + 2;
        # Bond 3, 5, 7, 9: 3 + 5 + 2 + 4.
        assert result.subscales == {"goal": 9, "task": 10, "bond": 14}
        assert result.mean == 2.75  # 33 / 12
        assert result.subscale_means == {"goal": 2.25, "task": 2.5, "bond": 3.5}
        assert result.severity is None
        assert result.risk is False
        assert result.caseness is None

    def test_it_reaches_the_top_of_the_scale(self):
        result = score("wai-sr", [5] * 12)

        assert result.total == 60
        assert result.mean == 5.0
        assert result.subscales == {"goal": 20, "task": 20, "bond": 20}

    def test_it_reaches_the_bottom_of_the_scale(self):
        result = score("wai-sr", [1] * 12)

        assert result.total == 12
        assert result.mean == 1.0

    def test_it_keeps_item_4_positively_keyed(self):
        # "…collaborate on setting goals…": a higher answer is a better alliance.
        result = score("wai-sr", [1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1, 1])

        assert result.item_scores[3] == 5
        assert result.subscales["goal"] == 8

    def test_it_gives_an_unrounded_mean(self):
        assert score("wai-sr", [4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]).mean == 37 / 12

    @pytest.mark.parametrize("value", [0, 6])
    def test_it_refuses_values_outside_1_to_5(self, value):
        with pytest.raises(ScoringError) as error:
            score("wai-sr", [3, 3, value, 3, 3, 3, 3, 3, 3, 3, 3, 3])

        assert str(error.value) == f"item 3: {value} is out of range 1–5"


class TestWsasScoring:
    # §9.1: 0-9 subclinical, 10-20 significant, 21-40 severe.
    @pytest.mark.parametrize(
        ("answers", "total", "severity"),
        [
            ([0, 0, 0, 0, 0], 0, "subclinical"),
            ([2, 2, 2, 2, 1], 9, "subclinical"),
            ([2, 2, 2, 2, 2], 10, "significant"),
            ([4, 4, 4, 4, 4], 20, "significant"),
            ([5, 4, 4, 4, 4], 21, "severe"),
            ([8, 8, 8, 8, 8], 40, "severe"),
        ],
    )
    def test_it_puts_every_band_edge_in_the_right_band(self, answers, total, severity):
        result = score("wsas", answers)

        assert result.total == total
        assert result.severity == severity
        assert result.risk is False
        assert result.caseness is None

    def test_it_refuses_a_rating_above_8(self):
        with pytest.raises(ScoringError) as error:
            score("wsas", [0, 9, 0, 0, 0])

        assert str(error.value) == "item 2: 9 is out of range 0–8"


class TestInvalidAnswers:
    @pytest.mark.parametrize(
        ("answers", "message", "item"),
        [
            ([1, 1, 1, 1, 1, 1, 1, 1], "expected 9 answers, got 8", None),
            ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], "expected 9 answers, got 10", None),
            ([], "expected 9 answers, got 0", None),
            ([1, 1, 1, 4, 1, 1, 1, 1, 1], "item 4: 4 is out of range 0–3", 4),
            ([-1, 1, 1, 1, 1, 1, 1, 1, 1], "item 1: -1 is out of range 0–3", 1),
            ([1, "x", 1, 1, 1, 1, 1, 1, 1], "item 2: 'x' is not an integer", 2),
            ([1, 2.5, 1, 1, 1, 1, 1, 1, 1], "item 2: 2.5 is not an integer", 2),
            ([1, 2.0, 1, 1, 1, 1, 1, 1, 1], "item 2: 2.0 is not an integer", 2),
            ([1, "1.0", 1, 1, 1, 1, 1, 1, 1], "item 2: '1.0' is not an integer", 2),
            ([1, True, 1, 1, 1, 1, 1, 1, 1], "item 2: True is not an integer", 2),
            ([1, 1, None, 1, 1, 1, 1, 1, 1], "item 3: no answer given", 3),
            ([1, 1, "", 1, 1, 1, 1, 1, 1], "item 3: no answer given", 3),
            ([1, 1, " ", 1, 1, 1, 1, 1, 1], "item 3: no answer given", 3),
            ("111111111", "expected a list of 9 answers", None),
            (None, "expected a list of 9 answers", None),
        ],
    )
    def test_it_names_the_item_and_the_reason(self, answers, message, item):
        with pytest.raises(ScoringError) as error:
            score("phq9", answers)

        assert str(error.value) == message
        assert error.value.item == item

    def test_it_reports_the_first_bad_item(self):
        with pytest.raises(ScoringError) as error:
            score("phq9", [1, 9, "x", 1, 1, 1, 1, 1, 1])

        assert error.value.item == 2
        assert error.value.reason == "9 is out of range 0–3"

    def test_it_accepts_integers_given_as_text(self):
        result = score("phq9", ["1", " 2", "3 ", "0", "+1", "0", "0", "0", "0"])

        assert result.item_scores == (1, 2, 3, 0, 1, 0, 0, 0, 0)
        assert result.total == 7

    def test_it_accepts_a_tuple(self):
        assert score("gad7", (1, 1, 1, 1, 1, 1, 1)).total == 7

    def test_it_refuses_to_score_an_open_ended_survey(self):
        with pytest.raises(ScoringError) as error:
            score("feedback", ["It helped", "More calls", "Kind", "Shorter"])

        assert str(error.value) == "Feedback is an open-ended survey and has no score"


class TestReadInteger:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [(0, 0), (7, 7), ("7", 7), (" -2 ", -2), ("+3", 3), (None, None), ("", None)],
    )
    def test_it_reads_whole_numbers(self, value, expected):
        assert read_integer(value) == expected

    @pytest.mark.parametrize("value", [1.5, "1.5", "one", False, [1], "٣"])
    def test_it_refuses_anything_else(self, value):
        with pytest.raises(ValueError, match="is not an integer"):
            read_integer(value)


class TestScoreAsDict:
    def test_it_has_exactly_the_keys_of_the_score_command(self):
        result = score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1], difficulty=1)

        assert result.as_dict() == {
            "instrument": "phq9",
            "total": 9,
            "severity": "mild",
            "risk": True,
            "caseness": False,
            "item_scores": [1, 1, 1, 1, 1, 1, 1, 1, 1],
            "subscales": {},
            "mean": None,
        }
