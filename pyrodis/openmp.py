"""OpenMP's wait policy, set in one place for every entry point (``docs/quickstart.rst``).

OpenMP worker threads that busy-wait between parallel regions make torch about ten times slower
on a small or shared machine, where other processes need the cores. ``OMP_WAIT_POLICY=PASSIVE``
lets them sleep instead; the OpenMP runtime reads it once, when it is loaded, which is when torch
is first imported. So an entry point (the CLI, a benchmark, the test suite, the docs build) calls
:func:`set_passive_wait` before it imports torch. This module imports nothing of pyrodis or torch,
so importing it loads no OpenMP runtime.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

__all__ = ["set_passive_wait"]

VARIABLE = "OMP_WAIT_POLICY"
PASSIVE = "PASSIVE"


def set_passive_wait(env: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` in ``env`` unless it already holds a policy.

    Args:
        env: the environment to change: ``None`` (default) for this process's ``os.environ``
            (call it before ``import torch``), or the environment of a child process.

    Returns:
        ``env`` (``os.environ`` when ``None`` was given), so ``set_passive_wait({})`` is the
        variable alone, ready to merge into a child's environment.
    """
    target = os.environ if env is None else env
    target.setdefault(VARIABLE, PASSIVE)
    return target
