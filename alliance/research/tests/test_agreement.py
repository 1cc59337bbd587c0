"""Agreement statistics: equal to scikit-learn, statsmodels and krippendorff to 1e-9."""

import math
import warnings

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from alliance.research import agreement
from alliance.research.agreement import MISSING

SEEDS = range(40)


def generated(seed: int, coders: int, units: int, categories: int = 2) -> np.ndarray:
    """Ratings that agree more than chance: a true value per unit, each coder errs."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, categories, size=units)
    error_rate = rng.uniform(0.05, 0.6)
    ratings = np.tile(truth, (coders, 1))
    errors = rng.random((coders, units)) < error_rate
    ratings[errors] = rng.integers(0, categories, size=int(errors.sum()))
    return ratings


def quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def close(ours, theirs) -> bool:
    if ours is None:
        return theirs is None or (isinstance(theirs, float) and math.isnan(theirs))
    return abs(ours - theirs) < 1e-9


class TestCohenKappa:
    @pytest.mark.parametrize("seed", SEEDS)
    @pytest.mark.parametrize("categories", [2, 3, 5])
    def test_it_equals_scikit_learn(self, seed, categories):
        ratings = generated(seed, 2, 20 + seed * 7, categories)
        expected = quietly(cohen_kappa_score, ratings[0], ratings[1])
        assert close(agreement.cohen_kappa(ratings[0], ratings[1]), expected)

    def test_it_matches_the_atlas_ti_manual_example(self):
        one = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        two = np.array([0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
        assert agreement.percent_agreement(np.vstack([one, two])) == pytest.approx(0.60)
        assert agreement.cohen_kappa(one, two) == pytest.approx(0.091, abs=5e-4)
        alpha = agreement.krippendorff_alpha(np.vstack([one, two]))
        assert alpha == pytest.approx(0.095, abs=5e-4)

    def test_it_is_undefined_when_nobody_applied_the_code(self):
        zeros = np.zeros(8, dtype=int)
        assert agreement.cohen_kappa(zeros, zeros) is None
        assert math.isnan(quietly(cohen_kappa_score, zeros, zeros))

    def test_it_is_zero_when_the_coders_are_opposite_and_constant(self):
        zeros, ones = np.zeros(6, dtype=int), np.ones(6, dtype=int)
        assert agreement.cohen_kappa(zeros, ones) == 0.0 == cohen_kappa_score(zeros, ones)

    def test_it_reproduces_the_nvivo_worked_example(self):
        # 1000 characters: 50 by both, 100 by A only, 50 by B only, 800 by neither.
        a = np.array([1] * 50 + [1] * 100 + [0] * 50 + [0] * 800)
        b = np.array([1] * 50 + [0] * 100 + [1] * 50 + [0] * 800)
        assert agreement.percent_agreement(np.vstack([a, b])) == pytest.approx(0.85)
        assert agreement.cohen_kappa(a, b) == pytest.approx(0.318, abs=5e-4)


class TestFleissKappa:
    @pytest.mark.parametrize("seed", SEEDS)
    @pytest.mark.parametrize("coders", [2, 3, 5])
    @pytest.mark.parametrize("categories", [2, 4])
    def test_it_equals_statsmodels(self, seed, coders, categories):
        ratings = generated(seed, coders, 15 + seed * 5, categories)
        table, _ = aggregate_raters(ratings.T)  # units × raters in, units × categories out
        expected = quietly(sm_fleiss_kappa, table, method="fleiss")
        assert close(agreement.fleiss_kappa(agreement.category_counts(ratings)), expected)

    def test_it_is_scotts_pi_not_cohens_kappa_with_two_coders(self):
        # Different marginals (coder b applies the code less often): π and κ differ.
        a = np.array([1, 1, 1, 0, 0, 0, 1, 0, 1, 1])
        b = np.array([1, 0, 0, 0, 0, 0, 1, 0, 1, 0])
        fleiss = agreement.fleiss_kappa(agreement.category_counts(np.vstack([a, b])))
        assert fleiss != pytest.approx(agreement.cohen_kappa(a, b))

    def test_it_is_undefined_without_variation(self):
        ones = np.ones((3, 7), dtype=int)
        assert agreement.fleiss_kappa(agreement.category_counts(ones)) is None


class TestKrippendorffAlpha:
    @pytest.mark.parametrize("seed", SEEDS)
    @pytest.mark.parametrize("coders", [2, 3, 4])
    @pytest.mark.parametrize("categories", [2, 3])
    def test_it_equals_the_krippendorff_package(self, seed, coders, categories):
        ratings = generated(seed, coders, 12 + seed * 4, categories)
        expected = krippendorff.alpha(
            reliability_data=ratings.astype(float), level_of_measurement="nominal"
        )
        assert close(agreement.krippendorff_alpha(ratings), expected)

    @pytest.mark.parametrize("seed", SEEDS)
    def test_it_equals_the_package_with_missing_ratings(self, seed):
        rng = np.random.default_rng(1000 + seed)
        ratings = generated(seed, 3, 30, 2)
        missing = rng.random(ratings.shape) < 0.25
        ours = np.where(missing, MISSING, ratings)
        theirs = np.where(missing, np.nan, ratings.astype(float))
        try:
            expected = krippendorff.alpha(reliability_data=theirs, level_of_measurement="nominal")
        except ValueError:
            expected = None
        assert close(agreement.krippendorff_alpha(ours), expected)

    def test_it_is_undefined_with_one_value_only(self):
        zeros = np.zeros((2, 9), dtype=int)
        assert agreement.krippendorff_alpha(zeros) is None
        with pytest.raises(ValueError, match="more than one value"):
            krippendorff.alpha(reliability_data=zeros.astype(float), level_of_measurement="nominal")

    def test_it_leaves_out_units_with_one_rating(self):
        ratings = np.array([[1, 0, 1, MISSING], [1, 0, 0, 1]])
        assert agreement.krippendorff_alpha(ratings) == pytest.approx(
            agreement.krippendorff_alpha(ratings[:, :3])
        )


def triples_from(values: np.ndarray, units, codes, coders):
    """(unit, code, coder) applied and (unit, coder) finished, from codes × coders × units."""
    applied, finished = [], set()
    for k, c, u in zip(*np.nonzero(values == 1), strict=True):
        applied.append((units[u], codes[k], coders[c]))
    for _k, c, u in zip(*np.nonzero(values != MISSING), strict=True):
        finished.add((units[u], coders[c]))
    return applied, finished


class TestAgreementReport:
    @pytest.mark.parametrize("seed", range(15))
    @pytest.mark.parametrize("coders", [2, 3])
    def test_it_equals_the_libraries_per_code_and_overall(self, seed, coders):
        rng = np.random.default_rng(seed)
        n_codes, n_units = 6, 40
        values = np.stack([generated(seed * 10 + k, coders, n_units) for k in range(n_codes)])
        values[0] = 0  # a code nobody used: undefined, and left out of the overall figures
        values[1][:, rng.random(n_units) < 0.8] = 0  # a rare code
        units = [f"doc{i}" for i in range(n_units)]
        codes = [f"code{k}" for k in range(n_codes)]
        names = ["ann", "ben", "cai"][:coders]
        applied, finished = triples_from(values, units, codes, names)

        report = agreement.agreement_report(
            coders=names, units=units, codes=codes, applied=applied, finished=finished
        )

        for k, code in enumerate(codes):
            stats, ratings = report.for_code(code), values[k]
            assert stats.units == n_units
            assert stats.prevalence == pytest.approx(ratings.mean())
            fleiss_table, _ = aggregate_raters(ratings.T)
            assert close(stats.fleiss_kappa, quietly(sm_fleiss_kappa, fleiss_table))
            if ratings.min() == ratings.max():
                assert stats.krippendorff_alpha is None
            else:
                assert close(
                    stats.krippendorff_alpha,
                    krippendorff.alpha(
                        reliability_data=ratings.astype(float), level_of_measurement="nominal"
                    ),
                )
            if coders == 2:
                assert close(stats.cohen_kappa, quietly(cohen_kappa_score, *ratings))
                agree = (ratings[0] == ratings[1]).mean()
                assert stats.percent_agreement == pytest.approx(agree, abs=1e-12)
            else:
                assert stats.cohen_kappa is None
        assert report.for_code("code0").krippendorff_alpha is None

        used = values[1:]
        long = used.transpose(1, 0, 2).reshape(coders, -1)
        overall = report.overall
        table, _ = aggregate_raters(long.T)
        assert close(overall.fleiss_kappa, sm_fleiss_kappa(table))
        assert close(
            overall.krippendorff_alpha,
            krippendorff.alpha(reliability_data=long.astype(float), level_of_measurement="nominal"),
        )
        if coders == 2:
            p_o = np.mean([(c[0] == c[1]).mean() for c in used])
            p_e = np.mean(
                [c[0].mean() * c[1].mean() + (1 - c[0].mean()) * (1 - c[1].mean()) for c in used]
            )
            assert close(overall.cohen_kappa, (p_o - p_e) / (1 - p_e))

    def test_it_pools_kappa_as_de_vries_not_as_the_mean(self):
        # Two codes: one with perfect agreement, one with some disagreement.
        units = list(range(10))
        applied = [(u, "a", c) for u in (0, 1, 2) for c in ("x", "y")]
        applied += [(0, "b", "x"), (1, "b", "x"), (1, "b", "y"), (2, "b", "y"), (5, "b", "y")]
        finished = [(u, c) for u in units for c in ("x", "y")]
        report = agreement.agreement_report(
            coders=["x", "y"], units=units, codes=["a", "b"], applied=applied, finished=finished
        )
        mean_kappa = (report.for_code("a").cohen_kappa + report.for_code("b").cohen_kappa) / 2
        assert report.for_code("a").cohen_kappa == 1.0
        assert report.overall.cohen_kappa != pytest.approx(mean_kappa)

    def test_it_lists_each_disagreement_with_who_applied_the_code(self):
        applied = [("d1", "warmth", "ann"), ("d2", "warmth", "ann"), ("d2", "warmth", "ben")]
        finished = [(d, c) for d in ("d1", "d2", "d3") for c in ("ann", "ben")]
        report = agreement.agreement_report(
            coders=["ann", "ben"],
            units=["d1", "d2", "d3"],
            codes=["warmth", "empathy"],
            applied=applied,
            finished=finished,
        )
        assert report.disagreements == (agreement.Disagreement("d1", "warmth", ("ann",), ("ben",)),)

    def test_it_counts_only_responses_every_coder_finished(self):
        applied = [("d1", "warmth", "ann"), ("d2", "warmth", "ben")]
        finished = [("d1", "ann"), ("d1", "ben"), ("d2", "ben")]
        report = agreement.agreement_report(
            coders=["ann", "ben"],
            units=["d1", "d2"],
            codes=["warmth"],
            applied=applied,
            finished=finished,
        )
        assert report.for_code("warmth").units == 1
        # d2 is not finished by ann: ben's coding there is no disagreement yet.
        assert [d.unit for d in report.disagreements] == ["d1"]

    def test_it_ignores_a_coding_on_a_response_the_coder_has_not_finished(self):
        values = agreement.presence_array(
            coders=["ann"],
            units=["d1"],
            codes=["warmth"],
            applied=[("d1", "warmth", "ann")],
            finished=[],
        )
        assert values.tolist() == [[[MISSING]]]

    def test_it_reports_nothing_without_responses(self):
        report = agreement.agreement_report(
            coders=["ann", "ben"], units=[], codes=["warmth"], applied=[], finished=[]
        )
        assert report.overall.percent_agreement is None
        assert report.for_code("warmth").units == 0


class TestBands:
    @pytest.mark.parametrize(
        ("value", "band"),
        [(-0.1, "poor"), (0.0, "slight"), (0.2, "slight"), (0.35, "fair"), (0.5, "moderate"),
         (0.7, "substantial"), (0.9, "almost perfect"), (None, "")],
    )  # fmt: skip
    def test_it_names_kappa_as_landis_and_koch(self, value, band):
        assert agreement.kappa_band(value) == band

    @pytest.mark.parametrize(
        ("value", "band"), [(0.85, "reliable"), (0.7, "tentative"), (0.5, "unreliable")]
    )
    def test_it_reads_alpha_as_krippendorff(self, value, band):
        assert agreement.alpha_band(value) == band
