"""pyrodis.training: the loop that trains a model/guide with an ELBO on data.

:func:`fit` and :class:`Trainer` run SVI over minibatches of anything a PyTorch user has, with
learning-rate schedules (:mod:`pyrodis.training.schedules`), gradient clipping, callbacks, a
progress bar, a :class:`History` of the ELBO terms, experiment trackers
(:class:`TensorBoardTracker`, :class:`MLflowTracker`), interrupts that land on a step boundary and a
complete resumable state. Any :class:`pyro.infer.ELBO` trains here; the disentangling ones are in
:mod:`pyrodis.inference`, one layer below.
"""

from pyrodis.training.fit import fit
from pyrodis.training.history import History
from pyrodis.training.interrupts import TrainingInterrupted
from pyrodis.training.param_state import ParameterMismatch, restore_params
from pyrodis.training.schedules import (
    SCHEDULES,
    Schedule,
    constant,
    make_schedule,
    warmup_constant,
    warmup_cosine,
)
from pyrodis.training.trackers import MLflowTracker, TensorBoardTracker, Tracker
from pyrodis.training.trainer import Trainer

__all__ = [
    "SCHEDULES",
    "History",
    "MLflowTracker",
    "ParameterMismatch",
    "Schedule",
    "TensorBoardTracker",
    "Tracker",
    "Trainer",
    "TrainingInterrupted",
    "constant",
    "fit",
    "make_schedule",
    "restore_params",
    "warmup_constant",
    "warmup_cosine",
]
