"""The format of a run's ``log.csv``: one row per logged step, the step and every ELBO term.

:func:`read_log` skips a damaged row with a warning (the checkpoints hold the full history);
:func:`write_log` rewrites the file atomically; :class:`LogAppender` appends one row at a time and
rewrites the file when a row brings a new column. :class:`~pyrodis.runs.run_directory.RunDirectory`
is the one user of these (``docs/runs.rst``).
"""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

from pyrodis.atomic import FileWriteError, atomic_open

__all__ = ["LogAppender", "read_log", "write_log"]


def read_log(path: Path) -> list[dict[str, float]]:
    """Rows of ``log.csv`` as dicts of floats (empty when there is no log yet).

    A damaged row (not numbers, wrong number of fields, unreadable bytes) is skipped; one warning
    names the file, the first damaged line and how many were skipped: the checkpoints hold the
    full history, and a resumed run rewrites the log from them."""
    if not path.exists():
        return []
    rows: list[dict[str, float]] = []
    damaged: list[tuple[int, Exception]] = []
    with open(path, newline="", errors="replace") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            try:
                if None in row or None in row.values():
                    raise ValueError("wrong number of fields")
                parsed = {k: float(v) if v != "" else math.nan for k, v in row.items()}
                parsed["step"] = int(row["step"])
            except (KeyError, ValueError, TypeError) as err:
                damaged.append((reader.line_num, err))
                continue
            rows.append(parsed)
    if damaged:  # one warning, however many lines: a garbage file must not flood stderr
        (line, err), count = damaged[0], len(damaged)
        what = f"damaged line {line} ({err})"
        if count > 1:
            what = f"{count} damaged lines (the first, line {line}: {err})"
        warnings.warn(
            f"{path}: skipping {what}; the run's checkpoints hold the full history",
            stacklevel=2,
        )
    return rows


def write_log(path: Path, rows: list[dict[str, float]]) -> None:
    """Rewrite ``log.csv`` with ``rows`` (columns: the union of the rows' keys, step first)."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with atomic_open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


class LogAppender:
    """Appends rows to ``log.csv`` (written afresh with ``rows`` first), rewriting the file when
    a row brings a new column; ``rows`` is every row so far."""

    def __init__(self, path: Path, rows: list[dict[str, float]]):
        self.path, self.rows = path, list(rows)
        write_log(path, self.rows)

    def append(self, row: dict[str, float]) -> None:
        self.rows.append(row)
        with open(self.path, newline="") as fh:
            header = next(csv.reader(fh), [])
        if set(row) <= set(header):
            try:
                with open(self.path, "a", newline="") as fh:
                    csv.DictWriter(fh, fieldnames=header).writerow(row)
            except OSError as err:  # a full disk: name the file
                raise FileWriteError(self.path, err) from err
        else:
            write_log(self.path, self.rows)
