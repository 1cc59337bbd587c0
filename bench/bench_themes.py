"""Suggested themes for 5,000 feedback responses on the CPU, the sentence model's loading
included (target under 60 s), with the loading and the grouping also shown on their own.

The responses are generated: a few sentences each from twelve topics of iCBT feedback,
with varied openings and lengths, so the work resembles a real survey rather than 5,000
copies of one line. ``BENCH_THEME_RESPONSES`` changes the count.
"""

import os
import random
import time

from bench.__main__ import Figure

RESPONSES = int(os.environ.get("BENCH_THEME_RESPONSES", 5_000))

TOPICS = [
    [
        "the weekly calls with my coach",
        "talking to my coach on the phone",
        "having a coach who listened",
        "my coach checking in every week",
    ],
    [
        "I could not sleep most nights",
        "the sleep module",
        "lying awake worrying at night",
        "keeping a sleep diary",
    ],
    [
        "finding time for the modules",
        "fitting the exercises around work",
        "the sessions taking too long",
        "looking after the kids and no time left",
    ],
    [
        "writing thought records",
        "noticing my negative thoughts",
        "challenging the thoughts that pulled me down",
        "finding a more balanced thought",
    ],
    [
        "planning pleasant activities",
        "getting out for a walk each day",
        "doing small things that I used to enjoy",
        "the activity schedule",
    ],
    [
        "logging in to the website",
        "the app crashing on my phone",
        "forgetting my password",
        "too many reminder emails",
    ],
    [
        "the videos about worry",
        "learning how anxiety works",
        "the worry time exercise",
        "facing the situations I avoided",
    ],
    [
        "seeing my scores go down",
        "filling in the questionnaires",
        "the mood chart each week",
        "tracking my progress over time",
    ],
    [
        "the face to face sessions",
        "going over the homework with my therapist",
        "my therapist reading what I wrote online",
        "preparing for the next session",
    ],
    [
        "feeling less alone",
        "reading stories from other parents",
        "knowing other people feel the same",
        "not feeling judged",
    ],
    [
        "the programme being too long",
        "the modules repeating themselves",
        "too much reading on each page",
        "wanting shorter lessons",
    ],
    [
        "setting goals for the week",
        "making a plan for when things get hard",
        "the staying well plan",
        "keeping going after the programme ended",
    ],
]
OPENINGS = ["", "", "", "Honestly ", "For me ", "Mostly ", "I think ", "To be fair "]
VERDICTS = [
    "helped a lot",
    "was the most useful part",
    "made a real difference",
    "was hard at first",
    "did not really work for me",
    "was frustrating",
    "kept me going",
    "could be better",
]
ENDINGS = [
    "",
    "",
    ".",
    ". Thank you.",
    " and I would recommend it.",
    ", especially in the first weeks.",
    " but I am glad I kept going.",
    " when things were difficult at home.",
]


def generate(count: int, *, seed: int = 9) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        topic = rng.choice(TOPICS)
        parts = [f"{rng.choice(OPENINGS)}{rng.choice(topic)} {rng.choice(VERDICTS)}"]
        for _extra in range(rng.choice([0, 0, 1, 1, 2])):
            other = rng.choice([topic, rng.choice(TOPICS)])
            parts.append(f"{rng.choice(other)} {rng.choice(VERDICTS)}")
        text = ", and ".join(parts) + rng.choice(ENDINGS)
        texts.append(text[0].upper() + text[1:])
    return texts


def run() -> list[Figure]:
    from alliance.research import themes

    texts = generate(RESPONSES)
    backend = themes.embedding_backend()
    stage_times = {}

    def progress(fraction: float) -> None:
        # The embedding ends at 0.8 of the bar; clustering and naming take the rest.
        if fraction >= 0.8 and "embedded" not in stage_times:
            stage_times["embedded"] = time.perf_counter()

    themes.load_model.cache_clear()
    began = time.perf_counter()
    if backend == "minilm":
        themes.load_model()
    loaded = time.perf_counter()
    suggested = themes.suggest_themes(texts, progress=progress)
    ended = time.perf_counter()
    assert sum(len(theme.member_indices) for theme in suggested) == len(texts)
    embedded = stage_times.get("embedded", ended)
    print(
        f"suggest_themes: {len(suggested)} groups from {len(texts):,} responses "
        f"with {backend}; first: {suggested[0].label_words}",
        flush=True,
    )
    label = f"suggest_themes_{RESPONSES}_responses_{backend}"
    return [
        Figure(label, ended - began, "s", "< 60 s on the CPU, model loading included"),
        Figure(f"{label}_model_loading", loaded - began, "s", "part of the figure above"),
        Figure(f"{label}_embedding", embedded - loaded, "s", "part of the figure above"),
        Figure(f"{label}_grouping_and_naming", ended - embedded, "s", "part of the figure above"),
    ]
