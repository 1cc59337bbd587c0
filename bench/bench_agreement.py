"""Agreement for 3 coders × 10,000 responses × 40 codes, from (response, code, coder)
triples as the project's query returns them to the statistics (target under 1 s)."""

import random
import time

from bench.__main__ import Figure

CODERS = ("coder_a", "coder_b", "coder_c")
RESPONSES = 10_000
CODES = 40


def generated_codings(seed: int = 8):
    """Each response truly carries a few codes; each coder finds most of them and adds
    the odd one of their own, as real coders do."""
    rng = random.Random(seed)  # noqa: S311  (bench data)
    applied, finished = [], []
    for unit in range(RESPONSES):
        truth = rng.sample(range(CODES), rng.randint(0, 4))
        for coder in CODERS:
            finished.append((unit, coder))
            for code in truth:
                if rng.random() < 0.85:
                    applied.append((unit, code, coder))
            if rng.random() < 0.15:
                applied.append((unit, rng.randrange(CODES), coder))
    return applied, finished


def run() -> list[Figure]:
    from alliance.research.agreement import agreement_report

    applied, finished = generated_codings()
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        report = agreement_report(
            coders=CODERS,
            units=range(RESPONSES),
            codes=range(CODES),
            applied=applied,
            finished=finished,
        )
        timings.append(time.perf_counter() - began)
    assert report.overall.units == RESPONSES and report.overall.fleiss_kappa is not None
    return [
        Figure(
            "agreement_3x10000x40",
            min(timings) * 1000,
            "ms",
            f"< 1,000 ms for 3 coders × {RESPONSES:,} responses × {CODES} codes "
            f"({len(applied):,} codings, {len(report.disagreements):,} disagreements)",
        )
    ]
