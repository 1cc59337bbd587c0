"""Valid answers for every exercise, and entries made through the service."""

import copy

import pytest

from alliance.checkins import services

VALID = {
    "activity_plan": {
        "activity": "Walk to the shop after breakfast",
        "planned_for": "2025-03-14T09:30:00+00:00",
        "done": True,
        "pleasure": 6,
        "mastery": 7,
        "notes": "Sunny. Saw a neighbour.",
    },
    "thought_record": {
        "situation": "Tuesday, 3pm, at home. My sister didn't reply.",
        "emotions": [{"emotion": "Sad", "intensity": 70}, {"emotion": "Worried", "intensity": 50}],
        "automatic_thought": "She's fed up with me.",
        "thought_belief": 80,
        "evidence_for": "No reply for five hours.",
        "evidence_against": "She works shifts and rang me last week.",
        "balanced_thought": "She often replies late when she's working.",
        "balanced_belief": 60,
        "emotions_after": [{"emotion": "Sad", "intensity": 40}],
    },
    "goal_plan": {
        "goal": "Get back to swimming",
        "action_what": "Swim ten lengths",
        "action_when": "Monday and Thursday after work",
        "action_where": "The leisure centre",
        "action_how": "Pack my bag the night before",
        "barriers": [{"barrier": "Too tired after work", "plan": "Go for five lengths only"}],
        "confidence": 7,
    },
    "problem_solving": {
        "problem": "Three unopened letters about bills.",
        "options": [
            {"option": "Ask my brother to help", "pros": "Less scary", "cons": "Embarrassing"},
            {"option": "Get free debt advice", "pros": "Expert help"},
        ],
        "chosen_option": "Ask my brother to help",
        "steps": "Sunday 2pm, open the letters together.",
        "review": "We opened two of them.",
    },
    "journal": {
        "title": "A better week",
        "reflection": "I went out three times and felt a bit lighter.",
    },
}

# A phrase of each kind's answers that must never appear in the database as plain text.
SECRET_PHRASE = {
    "activity_plan": "Walk to the shop",
    "thought_record": "fed up with me",
    "goal_plan": "Get back to swimming",
    "problem_solving": "unopened letters",
    "journal": "felt a bit lighter",
}


def valid(kind: str) -> dict:
    return copy.deepcopy(VALID[kind])


def make_entry(patient, kind="thought_record", data=None, **extra):
    entry, _created = services.entry_create(
        patient=patient,
        kind=kind,
        data=data if data is not None else valid(kind),
        actor=patient.user,
        **extra,
    )
    return entry


@pytest.fixture
def alice_entry(alice):
    return make_entry(alice)


@pytest.fixture
def bob_entry(bob):
    return make_entry(bob, "journal")
