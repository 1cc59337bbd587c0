"""The exercise definitions and ``validate_entry``: pure rules, tested with many cases."""

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from alliance.checkins.exercises import (
    EXERCISE_KEYS,
    EXERCISE_TITLES,
    EXERCISES,
    MAX_ROWS,
    display_rows,
    entry_summary,
    validate_entry,
    whole_number_or_raw,
)
from alliance.checkins.tests.conftest import VALID, valid

REQUIRED = {
    "activity_plan": ["activity", "planned_for"],
    "thought_record": ["situation", "emotions", "automatic_thought"],
    "goal_plan": ["goal", "action_what", "action_when"],
    "problem_solving": ["problem", "options"],
    "journal": ["reflection"],
}


def only_required(kind: str) -> dict:
    return {name: value for name, value in valid(kind).items() if name in REQUIRED[kind]}


def refused(kind: str, data: dict) -> dict[str, list[str]]:
    clean, errors = validate_entry(kind, data)
    assert errors, "expected the entry to be refused"
    assert clean == {}, "nothing is kept from a refused entry"
    return errors


class TestDefinitions:
    def test_it_keeps_the_interface_the_content_loader_uses(self):
        assert EXERCISE_KEYS == (
            "activity_plan",
            "thought_record",
            "goal_plan",
            "problem_solving",
            "journal",
        )
        assert set(EXERCISE_TITLES) == set(EXERCISES) == set(EXERCISE_KEYS)
        assert str(EXERCISE_TITLES["thought_record"]) == "Thought record"

    def test_it_describes_every_exercise_to_the_patient(self):
        for exercise in EXERCISES.values():
            assert len(str(exercise.description)) > 40
            assert all(str(field.label) for field in exercise.fields)

    def test_it_has_a_definition_for_every_exercise_the_programmes_embed(self):
        embedded = set()
        for path in Path(settings.BASE_DIR, "programs").rglob("*.md"):
            embedded |= set(re.findall(r"\{\{ exercise: ([a-z_]+) \}\}", path.read_text()))
        assert embedded
        assert embedded <= set(EXERCISE_KEYS)

    @pytest.mark.parametrize("kind", EXERCISE_KEYS)
    def test_it_marks_the_required_fields(self, kind):
        required = [f.name for f in EXERCISES[kind].fields if f.required]
        assert sorted(required) == sorted(REQUIRED[kind])


class TestValidAnswers:
    @pytest.mark.parametrize("kind", EXERCISE_KEYS)
    def test_it_accepts_every_field_filled_in(self, kind):
        clean, errors = validate_entry(kind, valid(kind))
        assert errors == {}
        assert clean == VALID[kind]

    @pytest.mark.parametrize("kind", EXERCISE_KEYS)
    def test_it_accepts_only_the_required_fields(self, kind):
        clean, errors = validate_entry(kind, only_required(kind))
        assert errors == {}
        assert set(clean) == set(REQUIRED[kind])

    def test_it_trims_text_and_leaves_out_empty_optional_fields(self):
        data = {**only_required("journal"), "reflection": "  A good day.\n", "title": "   "}
        clean, errors = validate_entry("journal", data)
        assert errors == {}
        assert clean == {"reflection": "A good day."}

    def test_it_leaves_out_optional_fields_sent_as_null(self):
        data = {**only_required("activity_plan"), "done": None, "pleasure": None}
        clean, _errors = validate_entry("activity_plan", data)
        assert "done" not in clean and "pleasure" not in clean

    @pytest.mark.parametrize("value", [0, 10])
    def test_it_accepts_the_ends_of_a_rating(self, value):
        _clean, errors = validate_entry(
            "activity_plan", {**only_required("activity_plan"), "pleasure": value, "mastery": value}
        )
        assert errors == {}

    @pytest.mark.parametrize("done", [True, False])
    def test_it_keeps_done_or_not_done(self, done):
        clean, _errors = validate_entry(
            "activity_plan", {**only_required("activity_plan"), "done": done}
        )
        assert clean["done"] is done

    def test_it_reads_a_day_and_time_without_zone_in_the_current_zone(self):
        data = {**only_required("activity_plan"), "planned_for": "2025-07-01T10:00"}
        with timezone.override(ZoneInfo("Europe/London")):
            clean, errors = validate_entry("activity_plan", data)
        assert errors == {}
        assert clean["planned_for"] == "2025-07-01T09:00:00+00:00"

    def test_it_stores_a_day_and_time_with_a_zone_in_utc(self):
        data = {**only_required("activity_plan"), "planned_for": "2025-03-14 18:30+01:00"}
        clean, _errors = validate_entry("activity_plan", data)
        assert clean["planned_for"] == "2025-03-14T17:30:00+00:00"

    @pytest.mark.parametrize("intensity", [0, 100])
    def test_it_accepts_the_ends_of_an_intensity(self, intensity):
        data = {
            **only_required("thought_record"),
            "emotions": [{"emotion": "Sad", "intensity": intensity}],
        }
        _clean, errors = validate_entry("thought_record", data)
        assert errors == {}

    def test_it_ignores_blank_rows(self):
        data = {
            **only_required("thought_record"),
            "emotions": [
                {"emotion": "", "intensity": None},
                {"emotion": " Sad ", "intensity": 70},
                {"emotion": "   "},
                {},
            ],
        }
        clean, errors = validate_entry("thought_record", data)
        assert errors == {}
        assert clean["emotions"] == [{"emotion": "Sad", "intensity": 70}]

    def test_it_accepts_an_idea_with_no_pros_or_cons(self):
        data = {"problem": "Bills", "options": [{"option": "Ring the company", "pros": ""}]}
        clean, errors = validate_entry("problem_solving", data)
        assert errors == {}
        assert clean["options"] == [{"option": "Ring the company"}]

    def test_it_accepts_as_many_rows_as_the_limit(self):
        rows = [{"emotion": f"Feeling {n}", "intensity": n} for n in range(MAX_ROWS)]
        _clean, errors = validate_entry(
            "thought_record", {**only_required("thought_record"), "emotions": rows}
        )
        assert errors == {}


class TestRefusedAnswers:
    @pytest.mark.parametrize(
        "kind, field, value, label, reason",
        [
            ("activity_plan", "pleasure", 11, "Pleasure", "from 0 to 10"),
            ("activity_plan", "pleasure", -1, "Pleasure", "from 0 to 10"),
            ("activity_plan", "mastery", 12, "Mastery", "from 0 to 10"),
            ("activity_plan", "mastery", 7.5, "Mastery", "whole number"),
            ("activity_plan", "pleasure", "7", "Pleasure", "whole number"),
            ("activity_plan", "pleasure", True, "Pleasure", "whole number"),
            ("activity_plan", "done", "yes", "Did you do it?", "yes or no"),
            ("activity_plan", "done", 1, "Did you do it?", "yes or no"),
            ("activity_plan", "planned_for", "next Tuesday", "Day and time", "date and time"),
            ("activity_plan", "planned_for", "2025-02-30T10:00", "Day and time", "date and time"),
            ("activity_plan", "planned_for", "0001-01-01T00:00", "Day and time", "date and time"),
            ("activity_plan", "planned_for", 1741944600, "Day and time", "date and time"),
            ("activity_plan", "activity", "x" * 201, "Activity", "200 characters"),
            ("activity_plan", "activity", 42, "Activity", "enter text"),
            ("thought_record", "thought_belief", 101, "Belief in the thought", "0 to 100"),
            ("thought_record", "balanced_belief", -5, "Belief in the balanced thought", "0 to 100"),
            ("thought_record", "situation", "x" * 5001, "Situation", "5000 characters"),
            ("goal_plan", "confidence", 11, "Confidence", "from 0 to 10"),
            ("journal", "title", ["A", "list"], "Title", "enter text"),
        ],
    )
    def test_it_refuses_a_bad_value_naming_the_field(self, kind, field, value, label, reason):
        errors = refused(kind, {**valid(kind), field: value})
        assert list(errors) == [field]
        assert label in errors[field][0]
        assert reason in errors[field][0]

    @pytest.mark.parametrize(
        "kind, field, label",
        [
            (kind, field, str(EXERCISES[kind].field(field).label))
            for kind, fields in REQUIRED.items()
            for field in fields
        ],
    )
    @pytest.mark.parametrize("empty", ["missing", None, "", "   ", []])
    def test_it_refuses_a_required_field_left_empty(self, kind, field, label, empty):
        data = valid(kind)
        if empty == "missing":
            del data[field]
        else:
            data[field] = empty
        errors = refused(kind, data)
        assert list(errors) == [field]
        assert errors[field][0].startswith(label)

    def test_it_refuses_an_intensity_over_100(self):
        data = {
            **valid("thought_record"),
            "emotions": [
                {"emotion": "Sad", "intensity": 70},
                {"emotion": "Angry", "intensity": 101},
            ],
        }
        errors = refused("thought_record", data)
        assert errors == {
            "emotions": ["Emotions, row 2, Intensity (0–100): enter a whole number from 0 to 100."]
        }

    def test_it_refuses_a_re_rated_intensity_out_of_range(self):
        data = {**valid("thought_record"), "emotions_after": [{"emotion": "Sad", "intensity": -1}]}
        errors = refused("thought_record", data)
        assert list(errors) == ["emotions_after"]
        assert errors["emotions_after"][0].startswith("Emotions now, row 1")

    @pytest.mark.parametrize(
        "row, message",
        [
            ({"emotion": "Sad"}, "Emotions, row 1, Intensity (0–100): this cannot be left empty."),
            ({"intensity": 50}, "Emotions, row 1, Emotion: this cannot be left empty."),
            (
                {"emotion": "Sad", "intensity": "lots"},
                "Emotions, row 1, Intensity (0–100): enter a whole number from 0 to 100.",
            ),
            (
                {"emotion": "Sad", "intensity": 50, "colour": "blue"},
                "Emotions, row 1: there is no part called “colour”.",
            ),
            ("Sad 50", "Emotions, row 1: send an object with emotion, intensity."),
        ],
    )
    def test_it_refuses_a_half_filled_row(self, row, message):
        errors = refused("thought_record", {**valid("thought_record"), "emotions": [row]})
        assert errors == {"emotions": [message]}

    def test_it_refuses_emotions_that_are_not_a_list(self):
        errors = refused("thought_record", {**valid("thought_record"), "emotions": "sad"})
        assert errors == {"emotions": ["Emotions: send a list of rows."]}

    def test_it_refuses_more_rows_than_the_limit(self):
        rows = [{"emotion": f"Feeling {n}", "intensity": n} for n in range(MAX_ROWS + 1)]
        errors = refused("thought_record", {**valid("thought_record"), "emotions": rows})
        assert errors == {"emotions": [f"Emotions: fill in {MAX_ROWS} rows or fewer."]}

    def test_it_refuses_a_barrier_without_a_plan(self):
        data = {**valid("goal_plan"), "barriers": [{"barrier": "Rain", "plan": " "}]}
        errors = refused("goal_plan", data)
        assert errors == {
            "barriers": [
                "Barriers and plans, row 1, What you will do then: this cannot be left empty."
            ]
        }

    def test_it_refuses_an_idea_with_pros_but_no_idea(self):
        data = {**valid("problem_solving"), "options": [{"pros": "Cheap"}]}
        errors = refused("problem_solving", data)
        assert errors == {"options": ["Ideas, row 1, Idea: this cannot be left empty."]}

    def test_it_refuses_ideas_that_are_all_blank(self):
        data = {**valid("problem_solving"), "options": [{"option": "", "pros": ""}]}
        errors = refused("problem_solving", data)
        assert errors == {"options": ["Ideas: fill in at least one row."]}

    def test_it_lists_every_problem_of_every_row(self):
        data = {
            **valid("thought_record"),
            "emotions": [
                {"emotion": "Sad", "intensity": 101},
                {"intensity": 20},
            ],
        }
        errors = refused("thought_record", data)
        assert len(errors["emotions"]) == 2
        assert errors["emotions"][0].startswith("Emotions, row 1")
        assert errors["emotions"][1].startswith("Emotions, row 2")

    def test_it_lists_every_bad_field_at_once(self):
        data = {"planned_for": "soon", "pleasure": 11, "mastery": -3}
        errors = refused("activity_plan", data)
        assert set(errors) == {"activity", "planned_for", "pleasure", "mastery"}

    def test_it_refuses_a_field_the_exercise_does_not_have(self):
        errors = refused("journal", {**valid("journal"), "mood": 4})
        assert errors == {"mood": ["Reflection journal has no field called “mood”."]}

    def test_it_refuses_an_unknown_exercise(self):
        assert refused("dream_diary", {"text": "x"}) == {
            "kind": ["There is no exercise called “dream_diary”."]
        }

    @pytest.mark.parametrize("data", [None, [], "a thought", 3])
    def test_it_refuses_answers_that_are_not_an_object(self, data):
        assert list(refused("journal", data)) == ["data"]


class TestHelpers:
    @pytest.mark.parametrize(
        "raw, expected",
        [
            ("7", 7),
            (" 10 ", 10),
            ("-1", -1),
            ("", None),
            ("  ", None),
            ("7.5", "7.5"),
            ("seven", "seven"),
        ],
    )
    def test_it_reads_a_form_number(self, raw, expected):
        assert whole_number_or_raw(raw) == expected

    def test_it_names_an_entry_by_its_summary_field(self):
        assert entry_summary("goal_plan", VALID["goal_plan"]) == "Get back to swimming"
        assert entry_summary("journal", {"reflection": "Long day"}) == "Long day"
        assert entry_summary("journal", {}) == "Reflection journal"

    def test_it_shows_every_field_in_order_ready_to_display(self):
        rows = display_rows("activity_plan", VALID["activity_plan"])
        assert [row.field.name for row in rows] == [
            "activity",
            "planned_for",
            "done",
            "pleasure",
            "mastery",
            "notes",
        ]
        assert rows[1].value == datetime(2025, 3, 14, 9, 30, tzinfo=ZoneInfo("UTC"))
        empty = display_rows("journal", {"reflection": "x"})
        assert empty[0].value is None

    def test_it_shows_rows_as_parts_and_values(self):
        rows = display_rows("thought_record", VALID["thought_record"])
        emotions = next(row for row in rows if row.field.name == "emotions")
        assert [(part.name, value) for part, value in emotions.value[0]] == [
            ("emotion", "Sad"),
            ("intensity", 70),
        ]
