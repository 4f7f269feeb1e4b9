"""Statistics of daily profiles shared by the scores, the report and the training loss.

One definition per concept:

- :func:`within_day_acf` -- the pooled, per-day-centred autocorrelation that the quality bar
  scores (:func:`scengen.evaluate.autocorrelation_error`), the report plots and
  :func:`scengen.train.batch_acf` reproduces in torch for the loss;
- :func:`ramps` -- step-to-step changes;
- :func:`sq_norms`, :func:`sq_distances`, :func:`distances`, :func:`pairwise_distances` -- the
  Euclidean distance kernel between rows (the "Gram trick" ``|a|^2 + |b|^2 - 2 a.b`` in blocks).

Profiles are arrays ``(n_days, n_sites, n_steps)`` in per-unit of capacity [p.u.].
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = [
    "BLOCK_FLOATS",
    "block_rows",
    "distances",
    "pairwise_distances",
    "ramps",
    "sq_distances",
    "sq_norms",
    "within_day_acf",
]

#: floats per temporary block of the blockwise computations (about 32 MB of float64)
BLOCK_FLOATS = 4_000_000


def block_rows(n_cols: int) -> int:
    """Rows per block so that a ``(rows, n_cols)`` temporary holds about :data:`BLOCK_FLOATS`.

    Parameters
    ----------
    n_cols : int
        Columns of the temporary.

    Returns
    -------
    int
        At least 1.
    """
    return max(1, BLOCK_FLOATS // max(1, n_cols))


# ---------------------------------------------------------------------- autocorrelation


def within_day_acf(
    values: np.ndarray,
    probabilities: np.ndarray | None = None,
    lags: Iterable[int] = range(1, 7),
) -> np.ndarray:
    r"""Pooled within-day autocorrelation per site [-].

    Each day's profile of a site is centred on its own daily mean,
    :math:`c_{d,s,t} = x_{d,s,t} - \bar x_{d,s}`, and the products are pooled over the days,
    weighted by their probabilities :math:`p_d`:

    .. math::

        \rho_s(k) = \frac{\sum_d p_d \sum_{t=0}^{T-1-k} c_{d,s,t}\, c_{d,s,t+k}}
                         {\sum_d p_d \sum_{t=0}^{T-1} c_{d,s,t}^2}

    (the usual biased sample ACF: the denominator sums over all ``T`` steps, so
    :math:`|\rho_s(k)| \le 1`; it describes the within-day dynamics, not day-to-day level
    changes).

    Parameters
    ----------
    values : numpy.ndarray
        Days, shape ``(n_days, n_sites, n_steps)`` [p.u.].
    probabilities : numpy.ndarray, optional
        Weights of the days, shape ``(n_days,)`` (default equal). Their scale cancels.
    lags : iterable of int, default 1..6
        Lags [steps], each in ``1 .. n_steps - 1`` (not checked here).

    Returns
    -------
    numpy.ndarray
        :math:`\rho_s(k)`, shape ``(n_sites, n_lags)``; NaN for a site that is constant within
        every day.
    """
    v = np.asarray(values, dtype=np.float64)
    p = np.full(v.shape[0], 1.0 / v.shape[0]) if probabilities is None else probabilities
    p = np.asarray(p, dtype=np.float64)
    lags = np.asarray(list(lags), dtype=int)
    c = v - v.mean(axis=2, keepdims=True)
    den = np.einsum("n,nst->s", p, c * c)
    out = np.empty((v.shape[1], len(lags)))
    for k, lag in enumerate(lags):
        num = np.einsum("n,nst->s", p, c[:, :, lag:] * c[:, :, :-lag])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, k] = num / den
    return out


# ---------------------------------------------------------------------- ramps


def ramps(values: np.ndarray, step_minutes: float | None = None) -> np.ndarray:
    r"""Step-to-step changes :math:`x_{t+1} - x_t` along the last axis.

    Parameters
    ----------
    values : numpy.ndarray
        Profiles, shape ``(..., n_steps)`` [p.u.].
    step_minutes : float, optional
        Length of a step [min]: when given the ramps are rates [p.u./h].

    Returns
    -------
    numpy.ndarray
        Shape ``(..., n_steps - 1)`` [p.u./step], or [p.u./h] with ``step_minutes``.
    """
    r = np.diff(np.asarray(values), axis=-1)
    return r if step_minutes is None else r / (step_minutes / 60.0)


# ---------------------------------------------------------------------- distance kernel


def sq_norms(x: np.ndarray) -> np.ndarray:
    r"""Squared Euclidean norms :math:`\lVert x_i \rVert^2` of the rows of ``x (n, d)``."""
    return np.einsum("ij,ij->i", x, x)


def sq_distances(
    a: np.ndarray,
    b: np.ndarray,
    a_sq: np.ndarray | None = None,
    b_sq: np.ndarray | None = None,
    *,
    refine: bool = True,
) -> np.ndarray:
    r"""Squared Euclidean distances between the rows of ``a (n, d)`` and ``b (m, d)``.

    The Gram trick, one BLAS product:

    .. math::

        \lVert a_i - b_j \rVert^2 = \lVert a_i \rVert^2 + \lVert b_j \rVert^2
            - 2\, a_i \cdot b_j

    clipped at 0. Near-coincident pairs lose all their digits to cancellation (relative error
    about ``eps * (|a|^2 + |b|^2) / d^2``); with ``refine`` the entries below ``1e-6`` times
    :math:`\lVert a_i \rVert^2 + \lVert b_j \rVert^2` are recomputed exactly from differences.
    Without ``refine`` the sum is formed in place, ``((-2 a.b) + |a|^2) + |b|^2``, in one
    ``(n, m)`` array. The result has the dtype of ``a @ b.T`` (float32 inputs stay float32).

    Parameters
    ----------
    a, b : numpy.ndarray
        Rows [p.u.], shapes ``(n, d)`` and ``(m, d)``.
    a_sq, b_sq : numpy.ndarray, optional
        Their squared norms (:func:`sq_norms`) when already known.
    refine : bool, default True
        Recompute the near-coincident pairs exactly.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, m)`` [p.u.^2], a new array; the caller blocks ``a`` to bound memory
        (:func:`block_rows`).
    """
    a_sq = sq_norms(a) if a_sq is None else a_sq
    b_sq = sq_norms(b) if b_sq is None else b_sq
    if not refine:  # in place: one (n, m) array
        d2 = a @ b.T
        d2 *= -2.0
        d2 += a_sq[:, None]
        d2 += b_sq[None, :]
        np.maximum(d2, 0.0, out=d2)
        return d2
    scale = a_sq[:, None] + b_sq[None, :]
    d2 = scale - 2.0 * (a @ b.T)
    i, j = np.nonzero(d2 < 1e-6 * scale)
    step = block_rows(a.shape[1])
    for k in range(0, i.size, step):
        ii, jj = i[k : k + step], j[k : k + step]
        diff = a[ii] - b[jj]
        d2[ii, jj] = np.einsum("ij,ij->i", diff, diff)
    np.maximum(d2, 0.0, out=d2)
    return d2


def distances(
    a: np.ndarray,
    b: np.ndarray,
    a_sq: np.ndarray | None = None,
    b_sq: np.ndarray | None = None,
) -> np.ndarray:
    """Euclidean distances between the rows of ``a (n, d)`` and ``b (m, d)`` [p.u.].

    The square root of :func:`sq_distances` (refined), shape ``(n, m)``.
    """
    d2 = sq_distances(a, b, a_sq, b_sq)
    return np.sqrt(d2, out=d2)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix between the rows of ``a`` and ``b`` [p.u.], blockwise.

    Parameters
    ----------
    a, b : numpy.ndarray
        Shapes ``(n, ...)`` and ``(m, ...)``; each row is flattened (all sites and steps).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, m)``, float64.
    """
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    a2, b2 = sq_norms(a), sq_norms(b)
    out = np.empty((len(a), len(b)))
    step = block_rows(len(b))
    for i in range(0, len(a), step):
        out[i : i + step] = distances(a[i : i + step], b, a2[i : i + step], b2)
    return out
