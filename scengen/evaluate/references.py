"""References that give every score a yardstick, fitted on the training days.

- :func:`history_reference` -- the training days themselves, equally weighted (resampled
  history);
- :func:`gaussian_copula` -- empirical marginals per site and step with a Gaussian dependence.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet

__all__ = ["gaussian_copula", "history_reference"]


def history_reference(train: ScenarioSet) -> ScenarioSet:
    """The training days as an equally weighted scenario set (resampled history)."""
    if not isinstance(train, ScenarioSet):
        raise ScengenError(f"history_reference needs a ScenarioSet, got {type(train).__name__}")
    return ScenarioSet(
        values=train.values,
        probabilities=None,
        sites=list(train.sites),
        step_minutes=train.step_minutes,
        capacities=train.capacities,
        units=train.units,
        start_minute=train.start_minute,
        dates=train.dates,
        metadata={"kind": "history", "n_train": train.n_scenarios},
    )


def _nearest_pd(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Cholesky factor of ``(1 - a) R + a I`` for the smallest ``a`` in a grid that works."""
    eye = np.eye(len(r))
    for a in (0.0, 1e-6, 1e-4, 1e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        rr = (1 - a) * r + a * eye
        try:
            return np.linalg.cholesky(rr), rr, a
        except np.linalg.LinAlgError:
            continue
    raise ScengenError("cannot fit the Gaussian copula: correlation matrix is not usable")


def gaussian_copula(train: ScenarioSet, n: int = 2000, seed: int = 0) -> ScenarioSet:
    r"""Sample ``n`` days from a Gaussian copula fitted on the training days.

    Every component ``k`` (site x step) keeps its empirical marginal; the dependence is Gaussian:

    1. normal scores ``z_{dk} = \Phi^{-1}(r_{dk} / (m + 1))`` from the ranks ``r`` of the ``m``
       training days (ties get their average rank);
    2. ``R`` = correlation matrix of the normal scores (components that never vary get zero
       correlation); if ``R`` is not positive definite it is shrunk toward the identity,
       ``(1 - a) R + a I`` with the smallest ``a`` of a grid that makes it so;
    3. draw ``Z ~ N(0, R)``, ``U = \Phi(Z)``, and map each ``U_k`` through the inverse empirical
       CDF of component ``k`` with linear interpolation between the order statistics (positions
       ``0, 1/(m-1), ..., 1``).

    Parameters
    ----------
    train : ScenarioSet
        Training days (their probabilities are ignored: days are equally likely).
    n : int, default 2000
        Number of days to draw.
    seed : int, default 0

    Returns
    -------
    ScenarioSet
        ``n`` equally weighted days; ``metadata["shrinkage"]`` records ``a``.
    """
    if not isinstance(train, ScenarioSet):
        raise ScengenError(f"gaussian_copula needs a ScenarioSet, got {type(train).__name__}")
    if int(n) < 1:
        raise ScengenError(f"gaussian_copula: n must be >= 1, got {n}")
    m = train.n_scenarios
    if m < 2:
        raise ScengenError(f"gaussian_copula needs at least 2 training days, got {m}")
    x = train.flat()
    u = stats.rankdata(x, axis=0, method="average") / (m + 1)
    z = special.ndtri(u)
    z = z - z.mean(axis=0)
    sd = z.std(axis=0)
    const = sd < 1e-12
    sd[const] = 1.0
    z = z / sd
    r = (z.T @ z) / m
    r[const, :] = 0.0
    r[:, const] = 0.0
    np.fill_diagonal(r, 1.0)
    chol, _, shrink = _nearest_pd(r)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((int(n), x.shape[1])) @ chol.T
    uu = special.ndtr(g)
    xs = np.sort(x, axis=0)
    pos = np.linspace(0.0, 1.0, m)
    out = np.empty_like(g)
    for k in range(x.shape[1]):
        out[:, k] = np.interp(uu[:, k], pos, xs[:, k])
    return ScenarioSet(
        values=out.reshape(int(n), train.n_sites, train.n_steps),
        probabilities=None,
        sites=list(train.sites),
        step_minutes=train.step_minutes,
        capacities=train.capacities,
        units=train.units,
        start_minute=train.start_minute,
        metadata={"kind": "gaussian_copula", "n_train": m, "seed": seed, "shrinkage": shrink},
    )
