r"""Train a WGAN-GP on daily profiles: training loop, checkpoints and run-directory I/O.

The losses are those of Gulrajani et al. (2017), "Improved Training of Wasserstein GANs":

.. math::

    L_D = \mathbb{E}[D(\tilde x)] - \mathbb{E}[D(x)]
          + \lambda\, \mathbb{E}\big[(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - 1)^2\big],
    \qquad L_G = -\mathbb{E}[D(\tilde x)],

with real days :math:`x`, generated days :math:`\tilde x = G(z)`, random interpolates
:math:`\hat x = \epsilon x + (1 - \epsilon) \tilde x`, :math:`\epsilon \sim U[0, 1]`, and
:math:`\lambda = 10`; ``n_critic`` critic steps per generator step, Adam with
:math:`\beta = (0, 0.9)`. :math:`W \approx \mathbb{E}[D(x)] - \mathbb{E}[D(\tilde x)]` is logged as
the Wasserstein estimate.

The subpackage: :mod:`.config` (settings, labels, device), :mod:`.losses` (the loss terms),
:mod:`.calibration` (fitted at the end of training, applied when sampling),
:mod:`.checkpoint` (the networks of a config, ``checkpoint.pt``) and :mod:`.loop` (the training
loop, :func:`train_run` and :func:`fit`). A run directory holds ``config.yaml``, ``metadata.json``, ``split.csv`` + ``profiles.npz`` (the
held-out days), ``metrics.csv`` and ``checkpoint.pt`` (see :func:`train_run`).
"""

from __future__ import annotations

from scengen.train.calibration import (  # noqa: F401
    CALIBRATION_LEVELS,
    CALIBRATION_MIN_DAYS,
    CALIBRATION_SAMPLES,
    calibrate,
    fit_calibration,
    modelled_steps,
)
from scengen.train.checkpoint import (  # noqa: F401
    CHECKPOINT,
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    _save_checkpoint,
    build_models,
    checkpoint_path,
    checkpoint_span,
    generator_from_checkpoint,
    load_checkpoint,
    resolved_config,
)
from scengen.train.config import (  # noqa: F401
    CONDITIONS,
    LABEL_VALUES,
    MAX_KERNEL,
    MAX_WIDTH,
    RESUMABLE_CHANGES,
    TRAIN_LIMITS,
    UNRECORDED,
    ModelConfig,
    Progress,
    TrainConfig,
    check_label,
    day_labels,
    label_index,
    resolve_device,
    versions,
)
from scengen.train.loop import (  # noqa: F401
    CONFIG_YAML,
    LOSS_COLUMNS,
    METADATA_JSON,
    METRIC_COLUMNS,
    METRICS_CSV,
    TrainingInterrupted,
    fit,
    train_run,
)
from scengen.train.losses import (  # noqa: F401
    RAMP_SCALE_DECAY,
    batch_acf,
    gradient_penalty,
    ramp_distance,
)
from scengen.train.validation import VAL_COLUMNS, Validator  # noqa: F401

__all__ = [
    "CALIBRATION_LEVELS",
    "CALIBRATION_MIN_DAYS",
    "CALIBRATION_SAMPLES",
    "CHECKPOINT",
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "CONDITIONS",
    "CONFIG_YAML",
    "LABEL_VALUES",
    "LOSS_COLUMNS",
    "MAX_KERNEL",
    "MAX_WIDTH",
    "METADATA_JSON",
    "METRICS_CSV",
    "METRIC_COLUMNS",
    "ModelConfig",
    "Progress",
    "RAMP_SCALE_DECAY",
    "RESUMABLE_CHANGES",
    "TRAIN_LIMITS",
    "TrainConfig",
    "TrainingInterrupted",
    "VAL_COLUMNS",
    "Validator",
    "UNRECORDED",
    "batch_acf",
    "build_models",
    "calibrate",
    "check_label",
    "checkpoint_path",
    "checkpoint_span",
    "day_labels",
    "fit",
    "fit_calibration",
    "generator_from_checkpoint",
    "gradient_penalty",
    "label_index",
    "load_checkpoint",
    "modelled_steps",
    "ramp_distance",
    "resolve_device",
    "resolved_config",
    "train_run",
    "versions",
]
