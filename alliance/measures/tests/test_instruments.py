"""The instrument files: what they say (reference §1-4, §6, §9) and how a broken file is refused."""

import copy

import pytest
import yaml

from alliance.measures import instruments
from alliance.measures.instruments import (
    BUILTIN_DIR,
    InstrumentFileError,
    UnknownInstrumentError,
    builtin_instruments,
    get_instrument,
    load_instrument,
    parse_instrument,
)
from alliance.measures.scoring import score_answers

PHQ9_ITEM_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
GAD7_ITEM_LOINC = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
FREQUENCY_LABELS = ["Not at all", "Several days", "More than half the days", "Nearly every day"]
FREQUENCY_LOINC = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
DIFFICULTY_LABELS = [
    "Not difficult at all",
    "Somewhat difficult",
    "Very difficult",
    "Extremely difficult",
]


def file_data(code):
    return yaml.safe_load((BUILTIN_DIR / f"{code}.yaml").read_text(encoding="utf-8"))


def parse(data, source="demo.yaml"):
    return parse_instrument(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), source=source
    )


def refusal(data, source="demo.yaml"):
    with pytest.raises(InstrumentFileError) as error:
        parse(data, source)
    return str(error.value)


DEMO = {
    "code": "demo",
    "name": "Demo",
    "title": "A two-item demo",
    "kind": "questionnaire",
    "licensed": False,
    "licence": "test",
    "scoring": {
        "answer": "option_index",
        "options_per_item": 3,
        "reverse_keyed": ["q2"],
        "mean": False,
    },
    "scales": {
        "forward": [
            {"value": 0, "score": 0, "label": "No"},
            {"value": 1, "score": 1, "label": "Sometimes"},
            {"value": 2, "score": 2, "label": "Often"},
        ],
    },
    "items": [
        {"key": "q1", "text": "First", "scale": "forward"},
        {
            "key": "q2",
            "text": "Second",
            "options": [
                {"value": 0, "score": 2, "label": "Yes"},
                {"value": 1, "score": 1, "label": "Partly"},
                {"value": 2, "score": 0, "label": "No"},
            ],
        },
    ],
    "severity": [
        {"key": "low", "label": "Low", "min": 0, "max": 1},
        {"key": "high", "label": "High", "min": 2, "max": 4},
    ],
    "subscales": [{"key": "first", "label": "First", "items": ["q1"]}],
    "risk": [{"item": "q2", "min_score": 1, "reason": "test"}],
    "caseness": {"min_total": 3, "source": "test"},
    "reliable_change": {"threshold": 2, "better": "lower"},
}


def demo():
    return copy.deepcopy(DEMO)


class TestBuiltinInstruments:
    def test_it_loads_every_instrument_of_the_reference(self):
        assert sorted(builtin_instruments()) == [
            "epds",
            "feedback",
            "gad7",
            "phq9",
            "wai-sr",
            "wsas",
        ]

    def test_it_loads_them_once(self):
        assert builtin_instruments() is builtin_instruments()
        assert get_instrument("phq9") is get_instrument("phq9")

    def test_it_refuses_an_unknown_code(self):
        with pytest.raises(UnknownInstrumentError) as error:
            get_instrument("phq8")

        assert str(error.value) == (
            "unknown instrument 'phq8' (known: epds, feedback, gad7, phq9, wai-sr, wsas)"
        )

    @pytest.mark.parametrize(
        ("code", "licensed"),
        [
            ("phq9", False),
            ("gad7", False),
            ("epds", True),
            ("wai-sr", True),
            ("wsas", False),
            ("feedback", False),
        ],
    )
    def test_it_marks_the_copyrighted_instruments_as_licensed(self, code, licensed):
        instrument = get_instrument(code)

        assert instrument.licensed is licensed
        assert instrument.licence

    def test_it_carries_the_rcpsych_licence_note_for_the_epds(self):
        licence = get_instrument("epds").licence

        assert "© 1987 The Royal College of Psychiatrists" in licence
        assert "Written permission must be obtained" in licence

    def test_it_carries_the_pfizer_permission_for_the_phq9_and_gad7(self):
        for code in ("phq9", "gad7"):
            licence = get_instrument(code).licence
            assert (
                "No permission required to reproduce, translate, display or distribute" in licence
            )


class TestPhq9File:
    def test_it_has_nine_items_with_their_loinc_codes(self):
        phq9 = get_instrument("phq9")

        assert [item.number for item in phq9.items] == list(range(1, 10))
        assert [item.loinc for item in phq9.items] == PHQ9_ITEM_LOINC
        assert phq9.loinc.panel == "44249-1"
        assert phq9.loinc.total == "44261-6"
        assert phq9.items[8].text == (
            "Thoughts that you would be better off dead or of hurting yourself in some way"
        )

    def test_it_lists_the_options_in_printed_order_with_their_answer_codes(self):
        for item in get_instrument("phq9").items:
            assert [o.label for o in item.options] == FREQUENCY_LABELS
            assert [(o.value, o.score) for o in item.options] == [(0, 0), (1, 1), (2, 2), (3, 3)]
            assert [o.loinc for o in item.options] == FREQUENCY_LOINC

    def test_it_has_the_unscored_difficulty_question(self):
        difficulty = get_instrument("phq9").difficulty

        assert difficulty.loinc == "69722-7"
        assert [o.label for o in difficulty.options] == DIFFICULTY_LABELS
        # Not in numeric order (reference §1).
        assert [o.loinc for o in difficulty.options] == [
            "LA6572-7",
            "LA6573-5",
            "LA6575-0",
            "LA6574-3",
        ]

    def test_it_has_the_bands_risk_caseness_and_reliable_change_of_the_reference(self):
        phq9 = get_instrument("phq9")

        assert [(b.key, b.min, b.max) for b in phq9.severity] == [
            ("minimal", 0, 4),
            ("mild", 5, 9),
            ("moderate", 10, 14),
            ("moderately_severe", 15, 19),
            ("severe", 20, 27),
        ]
        assert [(r.item, r.min_score) for r in phq9.risk] == [("q9", 1)]
        assert phq9.caseness.min_total == 10
        assert (phq9.reliable_change.threshold, phq9.reliable_change.better) == (6, "lower")
        assert phq9.total_range == (0, 27)


class TestGad7File:
    def test_it_has_seven_items_with_their_loinc_codes(self):
        gad7 = get_instrument("gad7")

        assert [item.loinc for item in gad7.items] == GAD7_ITEM_LOINC
        assert (gad7.loinc.panel, gad7.loinc.total) == ("69737-5", "70274-6")
        assert gad7.difficulty.loinc == "69726-8"

    def test_it_codes_option_2_of_item_2_as_loinc_does(self):
        items = get_instrument("gad7").items

        assert items[1].options[2].loinc == "LA18938-3"
        assert [item.options[2].loinc for i, item in enumerate(items) if i != 1] == ["LA6570-1"] * 6
        # The printed labels and the scores are the same for every item.
        assert all([o.label for o in item.options] == FREQUENCY_LABELS for item in items)

    def test_it_has_the_bands_and_the_nhs_thresholds(self):
        gad7 = get_instrument("gad7")

        assert [(b.key, b.min, b.max) for b in gad7.severity] == [
            ("minimal", 0, 4),
            ("mild", 5, 9),
            ("moderate", 10, 14),
            ("severe", 15, 21),
        ]
        assert gad7.risk == ()
        assert gad7.caseness.min_total == 8
        assert gad7.reliable_change.threshold == 4


class TestEpdsFile:
    def test_it_keys_the_printed_options_as_the_reference_table(self):
        epds = get_instrument("epds")

        assert [[o.score for o in item.options] for item in epds.items] == [
            [0, 1, 2, 3],
            [0, 1, 2, 3],
            [3, 2, 1, 0],
            [0, 1, 2, 3],
            [3, 2, 1, 0],
            [3, 2, 1, 0],
            [3, 2, 1, 0],
            [3, 2, 1, 0],
            [3, 2, 1, 0],
            [3, 2, 1, 0],
        ]
        assert epds.reverse_keyed == {"q3", "q5", "q6", "q7", "q8", "q9", "q10"}

    def test_it_lists_item_10_options_from_the_top_of_the_form(self):
        item_10 = get_instrument("epds").items[9]

        assert [o.label for o in item_10.options] == [
            "Yes, quite often",
            "Sometimes",
            "Hardly ever",
            "Never",
        ]

    def test_it_has_the_project_bands_risk_item_and_anxiety_subscale(self):
        epds = get_instrument("epds")

        assert [(b.key, b.min, b.max) for b in epds.severity] == [
            ("below_threshold", 0, 9),
            ("possible_depression", 10, 12),
            ("probable_depression", 13, 30),
        ]
        assert [(r.item, r.min_score) for r in epds.risk] == [("q10", 1)]
        assert [(s.key, s.items) for s in epds.subscales] == [("anxiety_3a", ("q3", "q4", "q5"))]
        assert epds.caseness is None
        assert (epds.loinc.panel, epds.loinc.total) == ("71354-5", "99046-5")


class TestWaiSrFile:
    def test_it_takes_values_1_to_5_with_the_reference_anchors(self):
        wai = get_instrument("wai-sr")

        assert wai.answer == "option_value"
        for item in wai.items:
            assert [(o.value, o.label) for o in item.options] == [
                (1, "Seldom"),
                (2, "Sometimes"),
                (3, "Fairly often"),
                (4, "Very often"),
                (5, "Always"),
            ]
        assert wai.reverse_keyed == frozenset()
        assert wai.reports_mean is True

    def test_it_has_the_goal_task_and_bond_subscales(self):
        subscales = {s.key: s.items for s in get_instrument("wai-sr").subscales}

        assert subscales == {
            "goal": ("q4", "q6", "q8", "q11"),
            "task": ("q1", "q2", "q10", "q12"),
            "bond": ("q3", "q5", "q7", "q9"),
        }

    def test_it_has_no_bands_and_no_risk_item(self):
        wai = get_instrument("wai-sr")

        assert wai.severity == ()
        assert wai.risk == ()
        assert wai.total_range == (12, 60)


class TestWsasAndFeedbackFiles:
    def test_it_rates_five_areas_from_0_to_8(self):
        wsas = get_instrument("wsas")

        assert [item.key for item in wsas.items] == [
            "work",
            "home_management",
            "social_leisure",
            "private_leisure",
            "close_relationships",
        ]
        assert all(item.answer_range == (0, 8) for item in wsas.items)
        assert [(b.key, b.min, b.max) for b in wsas.severity] == [
            ("subclinical", 0, 9),
            ("significant", 10, 20),
            ("severe", 21, 40),
        ]

    def test_it_asks_the_four_open_questions(self):
        feedback = get_instrument("feedback")

        assert feedback.kind == "survey"
        assert feedback.is_scored is False
        assert [item.type for item in feedback.items] == ["text"] * 4
        assert [item.text for item in feedback.items] == [
            "In what ways did you find the programme most helpful?",
            "How do you think the programme could have been improved?",
            "In what ways did you find the calls with your supporter helpful?",
            "How do you think the calls with your supporter could have been improved?",
        ]


class TestInstrumentFileErrors:
    def test_it_accepts_the_demo(self):
        instrument = parse(demo())

        assert instrument.code == "demo"
        assert instrument.source == "demo.yaml"
        assert instrument.total_range == (0, 4)

    def test_it_names_the_file_and_the_item_with_too_few_options(self):
        data = file_data("phq9")
        options = data["scales"]["frequency"][:3]
        data["items"][3] = {"key": "q4", "text": "Feeling tired", "options": options}

        message = refusal(data, source="phq9.yaml")

        assert message == "phq9.yaml: items[3].options: expected 4 options, got 3"

    def test_it_names_the_shared_scale_with_too_many_options(self):
        data = demo()
        data["scales"]["forward"].append({"value": 3, "score": 3, "label": "Always"})

        assert refusal(data) == "demo.yaml: scales.forward: expected 3 options, got 4"

    def test_it_refuses_epds_scores_that_disagree_with_the_reverse_keyed_items(self):
        # The trap of §3: a reproduction with asterisks on items 3, 5 and 6 only.
        data = file_data("epds")
        data["scoring"]["reverse_keyed"] = ["q3", "q5", "q6"]

        message = refusal(data, source="epds.yaml")

        assert message == (
            "epds.yaml: items[6].options[0].score: expected 0 because q7 is not reverse keyed, "
            "got 3"
        )

    def test_it_refuses_an_epds_item_scored_by_its_index(self):
        data = file_data("epds")
        for option in data["items"][2]["options"]:
            option["score"] = option["value"]

        message = refusal(data, source="epds.yaml")

        assert message == (
            "epds.yaml: items[2].options[0].score: expected 3 because q3 is reverse keyed, got 0"
        )

    def test_it_refuses_option_values_that_are_not_the_printed_index(self):
        data = demo()
        data["items"][1]["options"][0]["value"] = 1

        assert refusal(data) == (
            "demo.yaml: items[1].options[0].value: expected 0: answers are the option's index "
            "in printed order"
        )

    def test_it_refuses_option_values_with_a_gap(self):
        data = file_data("wai-sr")
        data["scales"]["frequency"][2]["value"] = 4
        data["scales"]["frequency"][2]["score"] = 4

        message = refusal(data, source="wai-sr.yaml")

        assert message == "wai-sr.yaml: scales.frequency[2].value: expected 3 (values go up by 1)"

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda d: d.pop("code"), "demo.yaml: code: missing"),
            (
                lambda d: d.update(code="Demo One"),
                "demo.yaml: code: 'Demo One' must be lower-case letters, digits, '-' or '_'",
            ),
            (
                lambda d: d.update(kind="quiz"),
                "demo.yaml: kind: expected one of questionnaire, survey, got 'quiz'",
            ),
            (lambda d: d.update(licensed="yes"), "demo.yaml: licensed: expected true or false"),
            (lambda d: d.update(colour="blue"), "demo.yaml: colour: unknown field"),
            (lambda d: d.pop("scoring"), "demo.yaml: scoring: missing"),
            (lambda d: d.update(items=[]), "demo.yaml: items: expected at least one item"),
            (lambda d: d["items"][0].pop("text"), "demo.yaml: items[0].text: missing"),
            (lambda d: d["items"][0].update(txt="x"), "demo.yaml: items[0].txt: unknown field"),
            (
                lambda d: d["items"][1].update(key="q1"),
                "demo.yaml: items[1].key: 'q1' is used twice",
            ),
            (
                lambda d: d["items"][0].update(scale="often"),
                "demo.yaml: items[0].scale: no scale named 'often' under 'scales'",
            ),
            (
                lambda d: d["items"][0].update(options=[]),
                "demo.yaml: items[0]: give either 'scale' or 'options'",
            ),
            (
                lambda d: d["scales"]["forward"][1].update(score="1"),
                "demo.yaml: scales.forward[1].score: expected an integer, got '1'",
            ),
            (
                lambda d: d["scoring"].update(answer="index"),
                "demo.yaml: scoring.answer: expected one of option_index, option_value, "
                "got 'index'",
            ),
            (
                lambda d: d["scoring"].update(reverse_keyed=["q9"]),
                "demo.yaml: scoring.reverse_keyed[0]: 'q9' is not an item of this instrument",
            ),
            (
                lambda d: d["severity"][1].update(min=3),
                "demo.yaml: severity[1].min: expected 2, got 3",
            ),
            (
                lambda d: d["severity"][1].update(min=1),
                "demo.yaml: severity[1].min: expected 2, got 1",
            ),
            (
                lambda d: d["severity"][1].update(max=3),
                "demo.yaml: severity[1].max: expected 4 (the highest possible total), got 3",
            ),
            (
                lambda d: d["subscales"][0].update(items=["q3"]),
                "demo.yaml: subscales[0].items[0]: 'q3' is not an item of this instrument",
            ),
            (
                lambda d: d["risk"][0].update(item="q5"),
                "demo.yaml: risk[0].item: 'q5' is not an item of this instrument",
            ),
            (
                lambda d: d["risk"][0].update(min_score=0),
                "demo.yaml: risk[0].min_score: expected 1–2",
            ),
            (
                lambda d: d["caseness"].update(min_total=5),
                "demo.yaml: caseness.min_total: expected 1–4",
            ),
            (
                lambda d: d["reliable_change"].update(better="up"),
                "demo.yaml: reliable_change.better: expected one of lower, higher, got 'up'",
            ),
        ],
    )
    def test_it_names_the_field_and_the_reason(self, change, message):
        data = demo()
        change(data)

        assert refusal(data) == message

    def test_it_refuses_a_key_given_twice(self):
        text = yaml.safe_dump(demo(), sort_keys=False) + "code: again\n"

        with pytest.raises(
            InstrumentFileError, match="demo.yaml: not valid YAML: .*'code' is given twice"
        ):
            parse_instrument(text, source="demo.yaml")

    def test_it_refuses_text_that_is_not_yaml(self):
        with pytest.raises(InstrumentFileError, match="^demo.yaml: not valid YAML: "):
            parse_instrument("items: [unclosed", source="demo.yaml")

    def test_it_refuses_a_file_that_is_not_a_mapping(self):
        with pytest.raises(InstrumentFileError, match=r"^demo.yaml: \(file\): expected a mapping"):
            parse_instrument("- just\n- a list\n", source="demo.yaml")

    def test_it_refuses_scoring_in_a_survey(self):
        data = file_data("feedback")
        data["severity"] = []

        assert (
            refusal(data, source="feedback.yaml")
            == "feedback.yaml: severity: a survey has no scoring"
        )

    def test_it_names_a_missing_file(self, tmp_path):
        with pytest.raises(InstrumentFileError, match="^nowhere.yaml: cannot be read"):
            load_instrument(tmp_path / "nowhere.yaml")


class TestServiceInstruments:
    def test_it_loads_and_scores_an_instrument_from_any_path(self, tmp_path):
        path = tmp_path / "demo.yaml"
        path.write_text(yaml.safe_dump(demo()), encoding="utf-8")

        instrument = load_instrument(path)
        # q1 "Often" = 2; q2 is reverse keyed, "Yes" (index 0) = 2.
        result = score_answers(instrument, [2, 0])

        assert result.total == 4
        assert result.severity == "high"
        assert result.risk is True
        assert result.caseness is True
        assert result.subscales == {"first": 2}

    def test_it_refuses_a_builtin_file_whose_code_is_not_its_name(self, tmp_path, monkeypatch):
        (tmp_path / "other.yaml").write_text(yaml.safe_dump(demo()), encoding="utf-8")
        monkeypatch.setattr(instruments, "BUILTIN_DIR", tmp_path)
        builtin_instruments.cache_clear()
        try:
            with pytest.raises(InstrumentFileError) as error:
                builtin_instruments()
        finally:
            monkeypatch.undo()
            builtin_instruments.cache_clear()

        assert str(error.value) == "other.yaml: code: 'demo' does not match the file name"
