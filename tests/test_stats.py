"""The reader's experiment statistics against scipy (an independent implementation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from orchestration.reader import stats


@pytest.mark.parametrize("df", [1, 2.5, 7, 30, 123.4, 5000])
@pytest.mark.parametrize("t", [0.0, 0.3, 1.96, 4.2, 12.0])
def test_t_sf_matches_scipy(t: float, df: float) -> None:
    assert stats.t_sf(t, df) == pytest.approx(sps.t.sf(t, df), rel=1e-9, abs=1e-15)
    assert stats.t_sf(-t, df) == pytest.approx(sps.t.sf(-t, df), rel=1e-9, abs=1e-15)


# df 1-2.5: bisection; 3-~100: expansion + Halley steps; larger: the expansion alone
# (how far depends on q: 0.9999 needs Halley steps much longer)
@pytest.mark.parametrize("df", [1, 2.5, 3, 3.3, 10, 47.5, 99.5, 186, 750, 1e4, 2e6])
@pytest.mark.parametrize("q", [0.51, 0.6, 0.975, 0.995, 0.9999])
def test_t_ppf_matches_scipy(q: float, df: float) -> None:
    assert stats.t_ppf(q, df) == pytest.approx(sps.t.ppf(q, df), rel=1e-9)
    assert stats.t_ppf(1 - q, df) == pytest.approx(sps.t.ppf(1 - q, df), rel=1e-9)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [
        (120, 1000, 90, 1000),
        (45, 5000, 3, 400),
        (10, 10, 9, 10),
        (0, 50, 4, 60),
        (3000, 90000, 260, 9000),
    ],
)
def test_two_proportion_z_against_chi_square(x1: int, n1: int, x2: int, n2: int) -> None:
    got = stats.two_proportion_ztest(x1, n1, x2, n2)
    # z^2 of the pooled two-proportion test is Pearson's chi-square without continuity correction
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    chi2, p, _, _ = sps.chi2_contingency(table, correction=False)
    assert got.statistic**2 == pytest.approx(chi2, rel=1e-9)
    assert got.p_value == pytest.approx(p, rel=1e-7)
    p1, p2 = x1 / n1, x2 / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    z = sps.norm.ppf(0.975)
    assert got.difference == pytest.approx(p1 - p2)
    assert got.ci_low == pytest.approx(p1 - p2 - z * se)
    assert got.ci_high == pytest.approx(p1 - p2 + z * se)
    assert math.copysign(1, got.statistic) == math.copysign(1, p1 - p2) or p1 == p2


def test_two_proportion_degenerate() -> None:
    assert stats.two_proportion_ztest(0, 0, 1, 10).p_value is None
    same = stats.two_proportion_ztest(0, 10, 0, 10)
    assert same.p_value is None and same.difference == 0


def test_welch_against_scipy_raw_samples() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n1, n2 = int(rng.integers(2, 400)), int(rng.integers(2, 400))
        a = np.where(rng.random(n1) < 0.2, rng.lognormal(4, 1, n1), 0.0)
        b = np.where(rng.random(n2) < 0.15, rng.lognormal(4, 1.2, n2), 0.0)
        if a.var() == 0 and b.var() == 0:
            continue
        # the reader only knows sums and sums of squares (zeros implied)
        v1 = stats.variance_from_sums(a.sum(), (a**2).sum(), n1)
        v2 = stats.variance_from_sums(b.sum(), (b**2).sum(), n2)
        got = stats.welch_ttest(a.mean(), v1, n1, b.mean(), v2, n2)
        ref = sps.ttest_ind(a, b, equal_var=False)
        assert got.statistic == pytest.approx(ref.statistic, rel=1e-7)
        assert got.p_value == pytest.approx(ref.pvalue, rel=1e-7, abs=1e-14)
        ci = ref.confidence_interval(0.95)
        assert got.ci_low == pytest.approx(ci.low, rel=1e-7)
        assert got.ci_high == pytest.approx(ci.high, rel=1e-7)
        assert got.df == pytest.approx(ref.df, rel=1e-9)


def test_welch_from_stats_matches_scipy() -> None:
    ref = sps.ttest_ind_from_stats(12.5, 4.0, 40, 10.0, 9.0, 25, equal_var=False)
    got = stats.welch_ttest(12.5, 16.0, 40, 10.0, 81.0, 25)
    assert got.statistic == pytest.approx(ref.statistic)
    assert got.p_value == pytest.approx(ref.pvalue)


def test_welch_degenerate() -> None:
    assert stats.welch_ttest(1.0, 0.0, 1, 0.0, 0.0, 5).p_value is None
    assert stats.welch_ttest(0.0, 0.0, 10, 0.0, 0.0, 10).p_value is None


def test_hand_computed_fixture() -> None:
    # 200/1000 vs 150/1000: pooled p = 0.175, se = sqrt(.175*.825*.002) = 0.016992646
    got = stats.two_proportion_ztest(200, 1000, 150, 1000)
    assert got.statistic == pytest.approx(0.05 / 0.0169926455, rel=1e-8)
    assert got.p_value == pytest.approx(0.0032563, abs=1e-6)  # z = 2.94245


# --------------------------------------------------------------------------- impossible input


def test_more_converted_than_recipients_is_no_statistic() -> None:
    """Issue 16 F2: 122 converted of 85 recipients made sqrt() of a negative variance
    raise `math domain error` and crashed the whole report."""
    r = stats.two_proportion_ztest(122, 85, 3, 10)
    assert (r.statistic, r.p_value, r.ci_low, r.ci_high) == (None, None, None, None)
    assert stats.impossible_proportion(122, 85) == "122 converted of 85 recipients (more than all)"
    assert stats.impossible_proportion(85, 85) is None


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [
        (122, 85, 3, 10),
        (3, 10, 11, 10),
        (-1, 10, 3, 10),
        (3, -10, 3, 10),
        (0, 0, 0, 0),
        (5, 0, 1, 3),
        (float("nan"), 10, 1, 10),
        (1, float("inf"), 1, 10),
    ],
)
def test_two_proportion_z_never_raises_on_impossible_counts(x1, n1, x2, n2) -> None:
    r = stats.two_proportion_ztest(x1, n1, x2, n2)
    assert r.statistic is None and r.p_value is None


@pytest.mark.parametrize(
    "values",
    [
        (1.0, -4.0, 10, 2.0, 1.0, 10),  # negative variance
        (float("nan"), 1.0, 10, 2.0, 1.0, 10),
        (1.0, float("inf"), 10, 2.0, 1.0, 10),
        (1.0, 1.0, -5, 2.0, 1.0, 10),
        (1.0, 1e-200, 10, 1.0 + 1e-190, 1e-200, 10),  # variances underflow when squared
        (1e308, 1e308, 10, -1e308, 1e308, 10),
    ],
)
def test_welch_never_raises(values) -> None:
    r = stats.welch_ttest(*values)
    assert r.p_value is None or 0.0 <= r.p_value <= 1.0


def test_campaign_experiment_reports_impossible_counts_as_a_finding() -> None:
    from orchestration.reader.campaigns import ArmStats, experiment

    treatment = ArmStats(is_holdout=False, recipients=900, converted_recipients=40)
    holdout = ArmStats(is_holdout=True, recipients=85, converted_recipients=122)
    e = experiment(treatment, holdout)
    assert e.verdict == "invalid_data"
    assert e.conversion is None and e.revenue_per_recipient is None
    assert e.findings == ("holdout: 122 converted of 85 recipients (more than all)",)
    assert holdout.conversion_rate is None and treatment.conversion_rate == pytest.approx(40 / 900)
    # without a holdout arm the treatment's own counts are checked too
    e = experiment(ArmStats(is_holdout=False, recipients=0, converted_recipients=3), None)
    assert e.verdict == "invalid_data" and e.findings == (
        "treatment: 3 converted of 0 recipients (more than all)",
    )
