"""Experiment statistics with the standard library only (no scipy at runtime).

* :func:`two_proportion_ztest` - conversion rate of treatment vs holdout: two-sided
  p-value from the pooled-variance z statistic, 95% confidence interval of the
  difference from the unpooled standard error (the textbook Wald interval).
* :func:`welch_ttest` - a mean (revenue per recipient) of two groups with unequal
  variances: Welch's t, Welch-Satterthwaite degrees of freedom, two-sided p-value
  and 95% confidence interval of the difference of means.

The Student t distribution is computed from the regularized incomplete beta
function (continued fraction, Lentz's method); quantiles from Fisher's expansion
polished by Halley steps (bisection below 3 degrees of freedom).
Results agree with ``scipy.stats`` to ~1e-10 (see tests/test_stats.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()


@dataclass(frozen=True)
class TestResult:
    """A two-sided test of treatment minus holdout."""

    statistic: float | None  # z or t
    p_value: float | None
    difference: float  # treatment - holdout
    ci_low: float | None  # 95% confidence interval of the difference
    ci_high: float | None
    df: float | None = None  # Welch only


# --------------------------------------------------------------------------- distributions


def normal_sf(x: float) -> float:
    """P(Z > x) for a standard normal, accurate in the far tail."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz). Written
    without calls in the loop: the reader evaluates it about twice per campaign."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    if -tiny < d < tiny:
        d = tiny
    d = 1.0 / d
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if -tiny < d < tiny:
            d = tiny
        d = 1.0 / d
        c = 1.0 + aa / c
        if -tiny < c < tiny:
            c = tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if -tiny < d < tiny:
            d = tiny
        d = 1.0 / d
        c = 1.0 + aa / c
        if -tiny < c < tiny:
            c = tiny
        delta = d * c
        h *= delta
        if -1e-15 < delta - 1.0 < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom (df may be fractional)."""
    if math.isinf(df) or df > 1e7:
        return normal_sf(t)
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_pdf(t: float, df: float) -> float:
    """The density of Student's t with ``df`` degrees of freedom."""
    return math.exp(
        math.lgamma((df + 1.0) / 2.0)
        - math.lgamma(df / 2.0)
        - 0.5 * math.log(df * math.pi)
        - (df + 1.0) / 2.0 * math.log1p(t * t / df)
    )


def _t_ppf_expansion(z: float, df: float) -> tuple[float, float]:
    """Fisher's expansion of the t quantile around the normal quantile ``z``
    (Abramowitz & Stegun 26.7.5), terms up to df**-5; also the size of the last term
    (the error is a few percent of it)."""
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0
    g5 = (
        (((((27.0 * z2 + 339.0) * z2 + 930.0) * z2 - 1782.0) * z2 - 765.0) * z2 + 17955.0)
        * z
        / 368640.0
    )
    last = g5 / df**5
    return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df + last, abs(last)


def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t (q in (0, 1)).

    From df 3 on: Fisher's expansion, returned as is when its last term is below
    1e-10 of the result (error ~1e-12; e.g. the 97.5 % quantile from df ~100 on), else
    polished by Halley steps on the upper tail (cubic convergence: one or two
    evaluations of t_sf instead of ~45 for bisection - the reader computes one
    quantile per campaign). Below df 3: bisection on the CDF."""
    if math.isinf(df) or df > 1e7:
        return _NORMAL.inv_cdf(q)
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -t_ppf(1.0 - q, df)
    if df >= 3.0:
        x, last = _t_ppf_expansion(_NORMAL.inv_cdf(q), df)
        if last < 1e-10 * abs(x):
            return x
        upper = 1.0 - q
        for _ in range(8):
            f = upper - t_sf(x, df)  # = cdf(x) - q, increasing in x
            d1 = f / t_pdf(x, df)
            curvature = -(df + 1.0) * x / (df + x * x)  # pdf'(x) / pdf(x)
            step = d1 / (1.0 - 0.5 * d1 * curvature)
            x -= step
            if abs(step) < 1e-5 * max(1.0, abs(x)):  # next error ~ step**3
                break
        return x
    lo, hi = 0.0, 1.0
    while 1.0 - t_sf(hi, df) < q:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if 1.0 - t_sf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


# --------------------------------------------------------------------------- tests


def two_proportion_ztest(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> TestResult:
    """Treatment (x1 of n1 converted) vs holdout (x2 of n2).

    z uses the pooled proportion (the null hypothesis p1 == p2); the confidence
    interval of p1 - p2 uses the unpooled standard error. With an empty arm or no
    variance at all, statistic/p-value/interval are None. Counts that are no proportion
    (x < 0, x > n, not finite - see :func:`impossible_proportion`) give no statistic
    either (difference 0.0): never an exception.
    """
    if impossible_proportion(x1, n1) or impossible_proportion(x2, n2):
        return TestResult(None, None, 0.0, None, None)
    try:
        return _ztest(x1, n1, x2, n2, level)
    except (ArithmeticError, ValueError):  # e.g. counts beyond float range
        return TestResult(None, None, 0.0, None, None)


def _ztest(x1: float, n1: float, x2: float, n2: float, level: float) -> TestResult:
    p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    pooled = (x1 + x2) / (n1 + n2)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    z = p = None
    if se0 > 0:
        z = diff / se0
        p = min(1.0, 2.0 * normal_sf(abs(z)))
    se1 = math.sqrt(p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)
    crit = _NORMAL.inv_cdf(0.5 + level / 2.0)
    lo, hi = (diff - crit * se1, diff + crit * se1) if se0 > 0 else (None, None)
    return TestResult(z, p, diff, lo, hi)


def impossible_proportion(x: float, n: float) -> str | None:
    """Why ``x`` of ``n`` is no proportion (a data-quality problem), or None when it is
    one: both finite, n > 0, 0 <= x <= n."""
    try:
        fx, fn = float(x), float(n)
    except (TypeError, ValueError, OverflowError):
        return f"{x!r} of {n!r} is not a number"
    if not (math.isfinite(fx) and math.isfinite(fn)):
        return f"{x} of {n} is not finite"
    if fx < 0 or fn < 0:
        return f"negative count ({x} converted of {n} recipients)"
    if fx > fn:
        return f"{x} converted of {n} recipients (more than all)"
    if fn == 0:
        return "no recipients"
    return None


def welch_ttest(
    mean1: float, var1: float, n1: int, mean2: float, var2: float, n2: int, *, level: float = 0.95
) -> TestResult:
    """Welch's unequal-variances t-test of mean1 - mean2 from summary statistics.

    ``var`` is the sample variance (denominator n - 1). Needs n >= 2 in each group and
    a positive standard error; otherwise statistic/p-value/interval are None - also for
    input no float arithmetic can take (not finite, overflowing): never an exception.
    """
    try:
        return _welch(mean1, var1, n1, mean2, var2, n2, level)
    except (ArithmeticError, ValueError):
        diff = mean1 - mean2
        return TestResult(None, None, diff if math.isfinite(diff) else 0.0, None, None)


def _welch(
    mean1: float, var1: float, n1: int, mean2: float, var2: float, n2: int, level: float
) -> TestResult:
    values = (mean1, var1, n1, mean2, var2, n2)
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        # not finite (or not a number): no statistic, never an exception
        diff = mean1 - mean2 if all(isinstance(v, int | float) for v in (mean1, mean2)) else 0.0
        return TestResult(None, None, diff if math.isfinite(diff) else 0.0, None, None)
    diff = mean1 - mean2
    if n1 < 2 or n2 < 2:
        return TestResult(None, None, diff, None, None)
    a, b = max(var1, 0.0) / n1, max(var2, 0.0) / n2
    se = math.sqrt(a + b)
    if not se > 0 or not math.isfinite(se):
        return TestResult(None, None, diff, None, None)
    t = diff / se
    denom = (a * a) / (n1 - 1) + (b * b) / (n2 - 1)
    df = (a + b) ** 2 / denom if denom > 0 else math.inf  # underflow: the normal limit
    if math.isnan(df):
        return TestResult(None, None, diff, None, None)
    p = min(1.0, 2.0 * t_sf(abs(t), df))
    crit = t_ppf(0.5 + level / 2.0, df)
    return TestResult(t, p, diff, diff - crit * se, diff + crit * se, df)


def variance_from_sums(total: float, sum_sq: float, n: int) -> float:
    """Sample variance of n values given their sum and sum of squares (values not listed
    are zeros, e.g. recipients who bought nothing)."""
    if n < 2:
        return 0.0
    mean = total / n
    v = (sum_sq - n * mean * mean) / (n - 1)
    return max(0.0, v) if math.isfinite(v) else 0.0
