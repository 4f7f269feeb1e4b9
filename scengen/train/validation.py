r"""Validation during training: the generator scored on the validation days, the best state kept.

Every ``train.val_every`` steps the EMA generator draws ``VAL_SAMPLES`` days (always the same
latent vectors, so two scores differ only by the weights), calibrated as ``scengen generate``
would calibrate them, and they are scored on the validation days :math:`V` with the quality
bar's own metrics (:mod:`scengen.evaluate.metrics`), each as a ratio to the history reference
(the training days :math:`T` scored on the same validation days):

.. math::

    r_{W} = \frac{W_1(\text{gen}, V)}{W_1(T, V)},\quad
    r_{ACF} = \frac{e_{ACF}(\text{gen}, V)}{\max\left(e_{ACF}(T, V),\ \bar e_{ACF}\right)},
    \quad
    r_{R} = \frac{W_1^{ramp}(\text{gen}, V)}{W_1^{ramp}(T, V)}

The ACF error is a difference of two mean autocorrelations, so on a few dozen validation days
the history reference can come out near 0 by luck, and the ratio then measures that luck (PV:
2.1–2.6 at every step of a run whose test ratio was 1.15). Its denominator is therefore floored
at the sampling noise :math:`\bar e_{ACF}`: the mean ACF error between ``ACF_NOISE_DRAWS``
random sets of as many training days as there are validation days and the other training days
(what the reference would be if the validation days came from the training distribution).
W1 and ramp W1 compare whole distributions and cannot vanish by luck; they are not floored.

The validation score is the worst of the three ratios, each divided by its limit on the quality
bar (:mod:`scengen.evaluate.quality`), so that the bar passes on the validation days exactly
when the score is at most 1:

.. math::

    s = \max\left( \frac{r_W}{1.0},\ \frac{r_{ACF}}{1.5},\ \frac{r_R}{1.5} \right)
    \quad [-]

(A mean of the three let a criterion far inside its limit trade against one on its limit: PV
runs kept steps whose W1 ratio was still falling because the ACF ratio had wobbled.)

The lowest score among the validations in the decay of the learning rate (from
``train.lr_decay_from``; all of them without a decay) marks the best step: at the full rate the
weights still swing from one validation to the next, and an early, immature step could win on
the noise of a few validation days. The best step's generator weights are what the model
samples with, and training stops early once ``train.patience`` of those validations in a row
have not improved it. The test days are never used here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from scengen.evaluate import metrics as _m
from scengen.evaluate import quality as _q
from scengen.train.calibration import calibrate, fit_calibration
from scengen.train.checkpoint import _state_to_cpu

#: generated days per validation (fixed latent vectors)
VAL_SAMPLES = 1000
#: generated days per label of the calibration fitted for a validation
VAL_CALIBRATION_SAMPLES = 1000
#: random training-day sets that estimate the ACF error's sampling noise
ACF_NOISE_DRAWS = 64
#: the columns a validation adds to ``metrics.csv``
VAL_COLUMNS = ("val_w1_ratio", "val_acf_ratio", "val_ramp_ratio", "val_score")


@dataclass
class Validator:
    """Scores a generator on the validation days and remembers the best state.

    Parameters
    ----------
    train_values, val_values : numpy.ndarray
        Training and validation days ``(n, n_sites, n_steps)`` [p.u.], all steps.
    train_labels, val_labels : numpy.ndarray
        Embedding index of each day's label (all 0 for an unconditioned model).
    n_labels : int
        Number of labels (0 = unconditioned).
    span : (int, int)
        The modelled steps ``[start, stop)`` (``train.fixed_zeros``); the others are 0.
    seed : int
        Seeds the fixed latent vectors and the calibration draws.
    calibrated : bool
        Calibrate the samples as ``scengen generate`` will (``train.calibrate``).
    """

    train_values: np.ndarray
    val_values: np.ndarray
    train_labels: np.ndarray
    val_labels: np.ndarray
    n_labels: int
    span: tuple[int, int]
    seed: int
    calibrated: bool
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    best_step: int | None = None
    best_score: float = float("inf")
    since_best: int = 0
    best_state: dict[str, Any] | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        v, t = self.val_values, self.train_values
        rng = np.random.default_rng([int(self.seed), 11])
        self.reference = {
            "w1": _m.wasserstein(t, None, v, None),
            "acf": _m.autocorrelation_error(t, None, v, None, lags=_lags(v)),
            "acf_noise": acf_noise(t, len(v), np.random.default_rng([int(self.seed), 12])),
            "ramp": _m.ramp_wasserstein(t, None, v, None),
        }
        # labels of the generated days: those of the validation days, in turn
        self.labels = np.resize(self.val_labels, VAL_SAMPLES) if self.n_labels else None
        self.z_seed = int(rng.integers(2**31))
        self._inputs: tuple[torch.Tensor, torch.Tensor | None] | None = None  # drawn once

    def _fixed_inputs(self, input_dim: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The latent vectors and labels of every validation, drawn at the first one."""
        if self._inputs is None:
            rng = torch.Generator().manual_seed(self.z_seed)
            z = torch.randn(VAL_SAMPLES, input_dim, generator=rng).to(self.device)
            lab = None if self.labels is None else torch.as_tensor(self.labels).to(self.device)
            self._inputs = (z, lab)
        return self._inputs

    def scores(self, gen: torch.nn.Module) -> dict[str, float]:
        """The three ratios and the validation score of ``gen`` (see the module docstring)."""
        t0 = time.perf_counter()
        start, stop = self.span
        was_training = gen.training
        gen.eval()
        z, lab = self._fixed_inputs(gen.input_dim)
        with torch.no_grad():
            x = gen(z, lab).float().cpu().numpy()
        gen.train(was_training)
        if self.calibrated:
            cal = fit_calibration(
                gen, self.train_values[:, :, start:stop], self.train_labels, self.n_labels,
                self.seed, self.device, n_samples=VAL_CALIBRATION_SAMPLES,
            )  # fmt: skip
            x = calibrate(x, cal, self.labels)
        days = np.zeros((VAL_SAMPLES, *self.val_values.shape[1:]), dtype=np.float64)
        days[:, :, start:stop] = x
        v, ref = self.val_values, self.reference
        out = {
            "val_w1_ratio": _m.wasserstein(days, None, v, None) / ref["w1"],
            "val_acf_ratio": _m.autocorrelation_error(days, None, v, None, lags=_lags(v))
            / float(np.fmax(ref["acf"], ref["acf_noise"])),
            "val_ramp_ratio": _m.ramp_wasserstein(days, None, v, None) / ref["ramp"],
        }
        out["val_score"] = np.max(  # NaN if any ratio is NaN: such a step cannot be the best
            [
                out["val_w1_ratio"] / _q.W1_VS_HISTORY,
                out["val_acf_ratio"] / _q.AUTOCORR_VS_HISTORY,
                out["val_ramp_ratio"] / _q.RAMP_VS_HISTORY,
            ]
        )
        self.seconds += time.perf_counter() - t0
        return {k: float(val) for k, val in out.items()}

    def update(self, step: int, score: float, gen: torch.nn.Module) -> bool:
        """Record the score of ``step``; keep ``gen``'s weights if it is the best so far.
        Returns whether it is."""
        if np.isfinite(score) and score < self.best_score:
            self.best_step, self.best_score, self.since_best = int(step), float(score), 0
            self.best_state = _state_to_cpu(gen.state_dict())  # a copy
            return True
        self.since_best += 1
        return False

    def state(self) -> dict[str, Any]:
        """What a checkpoint records to resume the validation."""
        return {
            "best_step": self.best_step,
            "best_score": self.best_score,
            "since_best": self.since_best,
            "seconds": self.seconds,
            "reference": dict(self.reference),
        }

    def restore(self, state: dict[str, Any], best_weights: dict[str, Any] | None) -> None:
        """Continue from a checkpoint's :meth:`state` and best weights."""
        self.best_step = state.get("best_step")
        self.best_score = float(state.get("best_score", float("inf")))
        self.since_best = int(state.get("since_best", 0))
        self.seconds = float(state.get("seconds", 0.0))
        self.best_state = best_weights or None


def acf_noise(train: np.ndarray, n_val: int, rng: np.random.Generator) -> float:
    """Sampling noise of the ACF error on ``n_val`` days [-].

    The mean, over ``ACF_NOISE_DRAWS`` random draws, of the ACF error
    (:func:`scengen.evaluate.metrics.autocorrelation_error`, the bar's lags) between ``n_val``
    training days and the other training days: the history reference's ACF error if the
    validation days were drawn from the training distribution. NaN when there are fewer than
    ``n_val + 1`` training days (no floor then).

    Parameters
    ----------
    train : numpy.ndarray
        Training days ``(n, n_sites, n_steps)`` [p.u.].
    n_val : int
        Number of validation days.
    rng : numpy.random.Generator
        Draws the sets.
    """
    n = len(train)
    if not 1 <= n_val < n:
        return float("nan")
    errs = []
    for _ in range(ACF_NOISE_DRAWS):
        p = rng.permutation(n)
        a, b = train[p[:n_val]], train[p[n_val:]]
        errs.append(_m.autocorrelation_error(b, None, a, None, lags=_lags(train)))
    errs = np.asarray(errs, dtype=float)
    return float(np.nanmean(errs)) if np.isfinite(errs).any() else float("nan")


def _lags(v: np.ndarray) -> range:
    """The quality bar's lags 1..6, capped at ``n_steps - 1``."""
    return range(1, min(6, v.shape[2] - 1) + 1)
