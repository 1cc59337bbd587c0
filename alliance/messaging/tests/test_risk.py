"""The risk-language rule: many phrasings, its tolerance of false positives, and its limits."""

import pytest

from alliance.messaging.risk import (
    DEFAULT_RISK_PHRASES,
    clean_phrase_list,
    find_risk_phrases,
    normalise_phrase,
    words,
)


def flagged(text, phrases=DEFAULT_RISK_PHRASES) -> bool:
    return find_risk_phrases(text, phrases).flagged


class TestNormalisation:
    def test_it_folds_case_accents_and_compatibility_forms(self):
        assert words("SUÏCIDE ｓｕｉｃｉｄｅ Straße") == ["suicide", "suicide", "strasse"]

    def test_it_turns_punctuation_and_spaces_into_single_breaks(self):
        assert words("  self-harm...\n\tagain!!  ") == ["self", "harm", "again"]

    def test_it_keeps_a_phrase_readable(self):
        assert normalise_phrase("  Don’t   want to LIVE ") == "don t want to live"


class TestFindRiskPhrases:
    @pytest.mark.parametrize(
        "text",
        [
            "I want to kill myself",
            "i want to KILL MYSELF",
            "Sometimes I think about killing myself.",
            "I've been thinking about suicide",
            "I feel suicidal tonight",
            "Suicidal thoughts again",
            "I had suicidal ideation last week",
            "I want to end my life",
            "I keep thinking about ending my life",
            "I just want to end it all",
            "Everyone would be better off dead... me included",
            "They'd all be better off without me",
            "There's no reason to live any more",
            "I've got nothing to live for",
            "Life is not worth living",
            "I don't want to live like this",
            "I dont want to be alive",
            "I can't go on",
            "I cant go on like this",
            "I cannot go on",
            "I hurt myself last night",
            "I've been hurting myself again",
            "I self-harm when it gets bad",
            "I self harmed on Sunday",
            "selfharm",
            "Self—harm again (long dash)",
            "I cut myself",
            "thinking of cutting myself",
            "I've thought about taking an overdose",
            "I took an overdose once",
            "I overdosed in 2019",
            "I'm scared I'll harm my baby",
            "what if I hurt the baby",
            "I wish I was dead",
            "I wanna die",
            "I want to die",
            "I'm going to kill my self",
            "k i l l myself",
            "I've thought about sucide",
            "KILL\nMYSELF",
            "kill    myself",
            "I want to take my own life",
        ],
    )
    def test_it_flags_risk_language_however_it_is_written(self, text):
        assert flagged(text), text

    @pytest.mark.parametrize(
        "text",
        [
            "I went for a walk and it helped.",
            "The baby slept through the night!",
            "I killed it at work today",
            "Skill myself up in the evenings",
            "I'm living for the weekend",
            "Thanks for your message, see you Tuesday",
            "I made an effort to see friends",
            "I'm harmless really",
            "The dose of my tablets changed",
        ],
    )
    def test_it_leaves_ordinary_messages_alone(self, text):
        assert not flagged(text), text

    @pytest.mark.parametrize(
        "text",
        [
            "I picked up a leaflet about suicide prevention",
            "I would never kill myself, don't worry",
            "My friend's brother took an overdose years ago",
            "I could kill myself laughing at that show",
            "That cake, I want to die, it was so good",
            "I want to diet before the wedding",
        ],
    )
    def test_it_errs_towards_flagging_mentions_and_denials(self, text):
        # Documented: no understanding of negation or context; staff read and decide.
        assert flagged(text), text

    @pytest.mark.parametrize(
        "text",
        [
            "I don't see the point any more",
            "Everyone would be happier if I wasn't here",
            "I've been stockpiling my tablets",
            "Je veux mourir",
            "I want to 💀",
            "k1ll mys3lf",
            "I want to sleep and never wake up",
        ],
    )
    def test_it_cannot_catch_what_is_not_on_the_list(self, text):
        # Documented limits: other words, other languages, emoji, obfuscation.
        assert not flagged(text), text

    def test_a_service_can_add_a_phrase_and_then_it_is_caught(self):
        phrases = [*DEFAULT_RISK_PHRASES, "never wake up"]
        assert flagged("I want to sleep and never wake up", phrases)

    def test_it_says_which_phrases_matched_in_the_order_of_the_list(self):
        found = find_risk_phrases("I self-harm and think about suicide", DEFAULT_RISK_PHRASES)
        assert found.phrases == ("suicide", "self harm")

    def test_it_ignores_phrases_too_short_to_mean_anything(self):
        assert not flagged("odd", ["od"])

    def test_it_flags_nothing_with_an_empty_list(self):
        assert not flagged("kill myself", [])

    def test_it_copes_with_a_long_message(self):
        text = "I had an ordinary day. " * 400 + "I want to end it all."
        assert flagged(text)


class TestCleanPhraseList:
    def test_it_tidies_drops_repeats_and_keeps_the_order(self):
        phrases, refused = clean_phrase_list(["  Kill  myself ", "", "kill-myself", "suicide"])
        assert phrases == ["Kill myself", "suicide"]
        assert refused == []

    def test_it_refuses_phrases_too_short_or_too_long(self):
        phrases, refused = clean_phrase_list(["od", "x" * 101, "overdose"])
        assert phrases == ["overdose"]
        assert refused == ["od", "x" * 101]
