"""Inter-coder agreement at the level of the response: pure functions over numpy arrays.

The unit is one response (one research document). For each code, each coder's rating of a
unit is 1 (applied the code somewhere in the response), 0 (finished the response without
applying it) or missing (has not finished the response). Per code and overall we report:

- prevalence: the share of ratings that are "applied" (the kappa paradox needs it beside κ);
- percentage agreement: the mean over units of the share of agreeing coder pairs (for two
  coders simply the share of units where they agree);
- Cohen's κ (two coders only): (p_o − p_e) / (1 − p_e), p_e = Σ_k p_A(k)·p_B(k);
- Fleiss' κ (two or more): (P̄ − P̄_e) / (1 − P̄_e) over the units × categories counts;
- Krippendorff's α (nominal, two or more): 1 − (n−1)(n − Σ_c o_cc) / (n² − Σ_c n_c²).

A statistic whose denominator is zero (nobody varied: every rating the same) is undefined
and reported as ``None`` ("n/a (no variation)"), as scikit-learn (NaN) and krippendorff
(an error) treat it. PA, κ and α per code use the units every coder has finished
(complete cases), so all four figures describe the same units.

Overall figures pool the codes that somebody applied at least once in those units (a code
nobody used carries no information and would only push every figure towards 1):
percentage agreement over all unit × code pairs; Cohen's κ pooled as De Vries et al.
(2008): (mean p_o − mean p_e) / (1 − mean p_e), which is not the mean of the κs; Fleiss' κ
and Krippendorff's α over the unit × code pairs taken as one long list of units.

The functions also work for nominal data with more than two categories (values 0..k−1,
``MISSING`` for a missing rating), and are tested against scikit-learn, statsmodels and
krippendorff to 1e-9. No database, no Django.
"""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

MISSING = -1


# --- The statistics on one ratings matrix (coders × units) ---------------------------------


def category_counts(ratings: np.ndarray) -> np.ndarray:
    """Units × categories: how many coders put unit i in category j (missing ignored)."""
    ratings = np.asarray(ratings)
    categories = int(ratings.max()) + 1 if ratings.size and ratings.max() >= 0 else 1
    counts = np.zeros((ratings.shape[1], max(categories, 1)), dtype=np.int64)
    for category in range(categories):
        counts[:, category] = (ratings == category).sum(axis=0)
    return counts


def percent_agreement(ratings: np.ndarray) -> float | None:
    """Mean over units of the share of coder pairs that agree (complete ratings)."""
    ratings = np.asarray(ratings)
    coders, units = ratings.shape
    if units == 0 or coders < 2:
        return None
    counts = category_counts(ratings).astype(np.float64)
    agreeing_pairs = (counts * (counts - 1)).sum(axis=1)
    return float((agreeing_pairs / (coders * (coders - 1))).mean())


def cohen_terms(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    """(p_o, p_e) for two coders' complete ratings; None with no units."""
    a, b = np.asarray(a), np.asarray(b)
    units = a.shape[0]
    if units == 0:
        return None
    size = int(max(a.max(), b.max())) + 1
    p_o = float((a == b).mean())
    p_a = np.bincount(a, minlength=size) / units
    p_b = np.bincount(b, minlength=size) / units
    return p_o, float((p_a * p_b).sum())


def kappa_from(p_o: float, p_e: float) -> float | None:
    if np.isclose(1.0 - p_e, 0.0, rtol=0.0, atol=1e-15):
        return None
    return (p_o - p_e) / (1.0 - p_e)


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's κ of two coders (nominal, unweighted); None when undefined."""
    terms = cohen_terms(a, b)
    return None if terms is None else kappa_from(*terms)


def fleiss_terms(counts: np.ndarray) -> tuple[float, float] | None:
    """(P̄, P̄_e) of a units × categories count table whose rows all sum to n ≥ 2."""
    counts = np.asarray(counts, dtype=np.float64)
    units = counts.shape[0]
    if units == 0:
        return None
    n = counts[0].sum()
    if n < 2:
        return None
    p_i = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    p_j = counts.sum(axis=0) / (units * n)
    return float(p_i.mean()), float((p_j**2).sum())


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' κ from a units × categories count table; None when undefined."""
    terms = fleiss_terms(counts)
    return None if terms is None else kappa_from(*terms)


def krippendorff_alpha(ratings: np.ndarray) -> float | None:
    """Krippendorff's α, nominal, from coders × units ratings with ``MISSING`` allowed.

    Units with fewer than two ratings cannot be paired and are left out. None when fewer
    than two pairable values exist or only one value occurs (no variation)."""
    counts = category_counts(ratings).astype(np.float64)
    values_in_unit = counts.sum(axis=1)
    pairable = values_in_unit >= 2
    counts, values_in_unit = counts[pairable], values_in_unit[pairable]
    if counts.shape[0] == 0:
        return None
    # Coincidences within categories: o_cc = Σ_u n_uc (n_uc − 1) / (m_u − 1).
    o_cc = (counts * (counts - 1) / (values_in_unit - 1)[:, None]).sum()
    n_c = counts.sum(axis=0)
    n = n_c.sum()
    denominator = n**2 - (n_c**2).sum()
    if denominator <= 0:
        return None
    return float(1.0 - (n - 1) * (n - o_cc) / denominator)


# --- A project's presence data -------------------------------------------------------------


@dataclass(frozen=True)
class Statistics:
    units: int
    prevalence: float | None
    percent_agreement: float | None
    cohen_kappa: float | None
    fleiss_kappa: float | None
    krippendorff_alpha: float | None


@dataclass(frozen=True)
class Disagreement:
    unit: Hashable
    code: Hashable
    applied_by: tuple
    not_applied_by: tuple


@dataclass(frozen=True)
class AgreementReport:
    coders: tuple
    codes: tuple
    per_code: tuple[Statistics, ...]
    overall: Statistics
    disagreements: tuple[Disagreement, ...]

    def for_code(self, code: Hashable) -> Statistics:
        return self.per_code[self.codes.index(code)]


def presence_array(
    *,
    coders: Sequence[Hashable],
    units: Sequence[Hashable],
    codes: Sequence[Hashable],
    applied: Iterable[tuple[Hashable, Hashable, Hashable]],
    finished: Iterable[tuple[Hashable, Hashable]],
) -> np.ndarray:
    """Codes × coders × units of 1 / 0 / MISSING. ``applied`` holds (unit, code, coder)
    triples (repeats are fine), ``finished`` (unit, coder) pairs. A code applied to a unit
    the coder has not finished stays missing: the coder has not made up their mind.
    Triples naming a coder, unit or code not listed are ignored."""
    coder_at = {c: i for i, c in enumerate(coders)}
    unit_at = {u: i for i, u in enumerate(units)}
    code_at = {c: i for i, c in enumerate(codes)}
    done = np.zeros((len(coders), len(units)), dtype=bool)
    pairs = [(coder_at.get(c, -1), unit_at.get(u, -1)) for u, c in finished]
    if pairs:
        rows, cols = np.array(pairs, dtype=np.int64).T
        keep = (rows >= 0) & (cols >= 0)
        done[rows[keep], cols[keep]] = True
    values = np.where(done, 0, MISSING).astype(np.int8)
    values = np.repeat(values[None, :, :], len(codes), axis=0)
    triples = [(code_at.get(k, -1), coder_at.get(c, -1), unit_at.get(u, -1)) for u, k, c in applied]
    if triples:
        k_idx, c_idx, u_idx = np.array(triples, dtype=np.int64).T
        keep = (k_idx >= 0) & (c_idx >= 0) & (u_idx >= 0)
        k_idx, c_idx, u_idx = k_idx[keep], c_idx[keep], u_idx[keep]
        finished_there = done[c_idx, u_idx]
        values[k_idx[finished_there], c_idx[finished_there], u_idx[finished_there]] = 1
    return values


@dataclass(frozen=True)
class _BinaryTerms:
    """Per-code sums of complete binary ratings, from which every figure follows."""

    coders: int
    units: int
    prevalence: np.ndarray  # p_1 per code
    pair_agreement: np.ndarray  # P̄ per code (= percentage agreement)
    coincidences: np.ndarray  # Σ_c o_cc per code
    cohen_p_e: np.ndarray | None  # per code, two coders only


def binary_terms(complete: np.ndarray) -> _BinaryTerms:
    """The same quantities as the general functions, for all codes at once: with 0/1
    ratings and every coder rating every unit, n_u1 is the number of coders who applied
    the code and n_u0 = m − n_u1."""
    codes, coders, units = complete.shape
    if units == 0 or coders < 2:
        nothing = np.zeros(codes)
        return _BinaryTerms(coders, units, nothing, nothing, nothing, None)
    ones = (complete == 1).sum(axis=1, dtype=np.float64)  # codes × units
    zeros = coders - ones
    agreeing = ones * (ones - 1) + zeros * (zeros - 1)
    p_e = None
    if coders == 2:
        p_a = (complete[:, 0, :] == 1).mean(axis=1)
        p_b = (complete[:, 1, :] == 1).mean(axis=1)
        p_e = p_a * p_b + (1 - p_a) * (1 - p_b)
    return _BinaryTerms(
        coders=coders,
        units=units,
        prevalence=ones.sum(axis=1) / (coders * units),
        pair_agreement=(agreeing / (coders * (coders - 1))).mean(axis=1),
        coincidences=agreeing.sum(axis=1) / (coders - 1),
        cohen_p_e=p_e,
    )


def alpha_from(coincidences: float, ones: float, n: float) -> float | None:
    """Nominal α from Σ o_cc, n_1 and n (two categories, complete data)."""
    denominator = n**2 - ones**2 - (n - ones) ** 2
    if denominator <= 0:
        return None
    return float(1.0 - (n - 1) * (n - coincidences) / denominator)


def binary_statistics(terms: _BinaryTerms, k: int | np.ndarray) -> Statistics:
    """Figures for one code (an index) or for pooled codes (a boolean mask)."""
    pooled = isinstance(k, np.ndarray)
    count = int(k.sum()) if pooled else 1
    if terms.units == 0 or terms.coders < 2 or count == 0:
        return Statistics(terms.units, None, None, None, None, None)
    p_1 = float(np.mean(terms.prevalence[k]))
    p_bar = float(np.mean(terms.pair_agreement[k]))
    cohen = None
    if terms.cohen_p_e is not None:
        cohen = kappa_from(p_bar, float(np.mean(terms.cohen_p_e[k])))
    n = float(terms.coders * terms.units * count)
    return Statistics(
        units=terms.units,
        prevalence=p_1,
        percent_agreement=p_bar,
        cohen_kappa=cohen,
        fleiss_kappa=kappa_from(p_bar, p_1**2 + (1 - p_1) ** 2),
        krippendorff_alpha=alpha_from(float(np.sum(terms.coincidences[k])), p_1 * n, n),
    )


def agreement_report(
    *,
    coders: Sequence[Hashable],
    units: Sequence[Hashable],
    codes: Sequence[Hashable],
    applied: Iterable[tuple[Hashable, Hashable, Hashable]],
    finished: Iterable[tuple[Hashable, Hashable]],
) -> AgreementReport:
    """Agreement per code and overall, and every disagreement (see the module docstring).

    Disagreements are listed for every unit that two or more coders have finished, even
    where a third has not: they are what consensus has to settle."""
    coders, units, codes = tuple(coders), tuple(units), tuple(codes)
    values = presence_array(
        coders=coders, units=units, codes=codes, applied=applied, finished=finished
    )
    if codes:
        complete_units = (values[0] != MISSING).all(axis=0)
    else:
        complete_units = np.zeros(len(units), dtype=bool)
    terms = binary_terms(values[:, :, complete_units])
    used = terms.prevalence > 0 if terms.units else np.zeros(len(codes), dtype=bool)
    return AgreementReport(
        coders=coders,
        codes=codes,
        per_code=tuple(binary_statistics(terms, k) for k in range(len(codes))),
        overall=binary_statistics(terms, used),
        disagreements=disagreements_in(values, coders=coders, units=units, codes=codes),
    )


def disagreements_in(values: np.ndarray, *, coders, units, codes) -> tuple[Disagreement, ...]:
    if not codes or not units:
        return ()
    present = (values == 1).any(axis=1)  # codes × units
    absent = (values == 0).any(axis=1)
    # Units × codes, so the list comes out by response, then by code.
    u_idx, k_idx = np.nonzero((present & absent).T)
    columns = values[k_idx, :, u_idx]  # disagreements × coders
    weights = 1 << np.arange(len(coders), dtype=np.int64)
    applied_keys = ((columns == 1) * weights).sum(axis=1)
    absent_keys = ((columns == 0) * weights).sum(axis=1)
    names: dict[int, tuple] = {}

    def who(key: int) -> tuple:
        if key not in names:
            names[key] = tuple(c for i, c in enumerate(coders) if key >> i & 1)
        return names[key]

    return tuple(
        Disagreement(units[u], codes[k], who(int(a)), who(int(b)))
        for u, k, a, b in zip(
            u_idx.tolist(), k_idx.tolist(), applied_keys.tolist(), absent_keys.tolist(), strict=True
        )
    )


# --- Interpretation ------------------------------------------------------------------------


def kappa_band(value: float | None) -> str:
    """Landis & Koch (1977) words for a κ: poor, slight, fair, moderate, substantial,
    almost perfect ("" when undefined)."""
    if value is None:
        return ""
    if value < 0:
        return "poor"
    bands = ((0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial"))
    for limit, word in bands:
        if value <= limit:
            return word
    return "almost perfect"


def alpha_band(value: float | None) -> str:
    """Krippendorff's guidance: rely on α ≥ 0.800; tentative from 0.667; otherwise discard."""
    if value is None:
        return ""
    if value >= 0.800:
        return "reliable"
    if value >= 0.667:
        return "tentative"
    return "unreliable"
