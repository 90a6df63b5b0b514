"""The gap between the two largest entries of each column: MIG's and SAP's score per factor."""

from __future__ import annotations

import numpy as np


def top_two_gap(matrix: np.ndarray) -> np.ndarray:
    """Per column, the largest minus the second largest entry (the second is 0 with one row)."""
    ordered = np.sort(matrix, axis=0)[::-1]
    second = ordered[1] if ordered.shape[0] > 1 else np.zeros(ordered.shape[1])
    return ordered[0] - second
