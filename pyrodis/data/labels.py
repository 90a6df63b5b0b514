"""Partial labels of your own images: :func:`read_labels` and :class:`LabelledImages`.

A labels file has one row per image file and one column per label (CelebA's attribute file is
the model: a header, a file-name column, 40 columns of -1/1).  Any subset of the images may be
labelled and any subset of the columns used.  Each column becomes a factor of class indices
(``docs/data.rst``, "Your own images"):

- a column of at most ``max_classes`` distinct values (numbers or words) is **discrete**: its
  sorted distinct values are its classes;
- a column of numbers with more distinct values is **continuous**: it is cut into ``num_bins``
  equal-width bins over its range, the discretisation of the metric protocols (``docs/metrics.rst``),
  and flagged in ``continuous_factors``.

The labelled images form a ground-truth dataset whose points are observed, not generated: MIG, DCI,
SAP, modularity/explicitness, IRS and the unsupervised scores run on it, while the BetaVAE and
FactorVAE scores, which hold one factor fixed and let the others vary independently (an
intervention on the generator), cannot and say so.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pyrodis.data.labelled import LabelledImages
from pyrodis.data.official_files import DatasetFileError

__all__ = ["read_labels"]

FILE_COLUMNS = ("file", "filename", "file_name", "image", "image_id", "path", "name")
_MISSING = ("", "na", "nan", "none", "null", "?")
_SHOWN = 10


def _rows(path: Path) -> list[list[str]]:
    """The file's rows of cells: commas, tabs or (CelebA's .txt) runs of spaces."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise DatasetFileError(f"{path}: cannot be read as text ({err})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].strip().isdigit():  # CelebA's .txt starts with the number of rows
        lines = lines[1:]
    if not lines:
        raise DatasetFileError(f"{path}: no rows. A labels file has a header and one row per file")
    if "," in lines[0] or "\t" in lines[0]:
        delimiter = "," if "," in lines[0] else "\t"
        rows = list(csv.reader(lines, delimiter=delimiter, skipinitialspace=True))
        rows[0] = [c.strip() for c in rows[0]]
        return rows
    return [line.split() for line in lines]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _header(path: Path, rows: list[list[str]], file_column: str | None) -> tuple[list[str], int]:
    header = rows[0]
    if len(rows) > 1 and len(header) == len(rows[1]) - 1:  # CelebA: no name for the file column
        header = ["file", *header]
    named = [c for c in header if c.lower() not in FILE_COLUMNS]
    if (
        not named
        or all(_is_number(c) for c in named)
        or header[0].lower().endswith((".png", ".jpg", ".jpeg", ".webp", ".bmp"))
    ):
        raise DatasetFileError(
            f"{path}: the first line {','.join(header[:4])}... is a data row, not a header. Add "
            "a first line naming the columns, e.g. file,Smiling,Young"
        )
    if file_column is not None:
        if file_column not in header:
            raise DatasetFileError(f"{path}: no column {file_column!r}; the header is {header}")
        return header, header.index(file_column)
    lowered = [c.lower() for c in header]
    return header, next((lowered.index(n) for n in FILE_COLUMNS if n in lowered), 0)


def _classes(cells: Sequence[str], max_classes: int, num_bins: int) -> tuple:
    """(classes (n,), class values, continuous?) of one column (module docstring); each distinct
    cell is parsed once, so a CelebA-sized file is read in seconds."""
    distinct = {cell: cell.strip() for cell in set(cells)}
    try:
        number = {cell: float(text) for cell, text in distinct.items()}
    except ValueError:  # words: categories in sorted order
        words = sorted(set(distinct.values()))
        lookup = {cell: words.index(text) for cell, text in distinct.items()}
        return (
            np.array(list(map(lookup.__getitem__, cells)), np.int64),
            np.arange(len(words), dtype=np.float64),
            False,
        )
    if not all(np.isfinite(v) for v in number.values()):
        raise ValueError("holds an infinite value; remove it or leave the cell empty")
    values = np.unique(np.fromiter(number.values(), np.float64, len(number)))
    if len(values) <= max_classes:
        lookup = {cell: int(np.searchsorted(values, v)) for cell, v in number.items()}
        return np.array(list(map(lookup.__getitem__, cells)), np.int64), values, False
    column = np.array(list(map(number.__getitem__, cells)), np.float64)
    edges = np.histogram_bin_edges(column, bins=num_bins)
    classes = np.clip(np.digitize(column, edges[1:-1]), 0, num_bins - 1).astype(np.int64)
    return classes, (edges[:-1] + edges[1:]) / 2.0, True


def _match(path: Path, files: Sequence[str], images) -> tuple[list[int], list[int]]:
    """(row numbers, image indices) of the rows naming an image; warns about the others."""
    names = {name: i for i, name in enumerate(images.file_names)}
    base: dict[str, int] = {}
    for name, i in names.items():
        key = name.rsplit("/", 1)[-1]
        base[key] = -1 if key in base else i  # -1: the short name is ambiguous
    found, missing, seen = ([], []), [], {}
    for r, cell in enumerate(files):
        cell = cell.strip()
        i = names.get(cell.replace("\\", "/"), base.get(cell, -1))
        if i < 0:
            missing.append(cell)
            continue
        if i in seen:
            raise DatasetFileError(f"{path}: {cell} is labelled twice (rows {seen[i]}, {r + 2})")
        seen[i] = r + 2
        found[0].append(r)
        found[1].append(i)
    if missing:
        _warn(path, f"{len(missing)} rows name files that are not among the images", missing)
    if len(found[0]) < 2:
        raise DatasetFileError(
            f"{path}: {len(found[0])} of {len(files)} rows name an image of the dataset; at least "
            f"2 are needed. Name files by their path inside the folder (e.g. "
            f"{images.file_names[0]}) or by their file name"
        )
    return found


def _warn(path: Path, what: str, items: Sequence[str]) -> None:
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    warnings.warn(f"{path}: {what}, ignored: {', '.join(items[:_SHOWN])}{more}", stacklevel=3)


def _complete_rows(path: Path, header: list[str], body: list, at: int, cols: list[int]) -> list:
    """The columns (tuples) of the data rows, checked for length; rows missing a chosen label are
    dropped (warned)."""
    lengths = set(map(len, body))
    if lengths - {len(header)}:
        ragged = [r + 2 for r, row in enumerate(body) if len(row) != len(header)]
        raise DatasetFileError(
            f"{path}: rows {ragged[:_SHOWN]} have not {len(header)} cells like the header"
        )
    columns = list(zip(*body)) if body else [() for _ in header]
    holes = np.zeros(len(body), dtype=bool)
    for c in cols:
        bad = {cell for cell in set(columns[c]) if cell.strip().lower() in _MISSING}
        if bad:
            holes |= np.array([cell in bad for cell in columns[c]], dtype=bool)
    if holes.any():
        keep = np.flatnonzero(~holes).tolist()
        _warn(
            path,
            f"{int(holes.sum())} rows miss a label value",
            [columns[at][r] for r in np.flatnonzero(holes)],
        )
        columns = [tuple(col[r] for r in keep) for col in columns]
    return columns


def _factor_columns(path: Path, cells: list, names: list[str], **binning) -> dict[str, tuple]:
    """{name: (classes, values, continuous)} of the columns that vary (the others warned)."""
    parts = {}
    for name, column in zip(names, cells):
        try:
            parts[name] = _classes(column, **binning)
        except ValueError as err:
            raise DatasetFileError(f"{path}: column {name!r} {err}") from None
    constant = [name for name, part in parts.items() if len(part[1]) < 2]
    if constant:
        what = "columns with a single value on the labelled images carry no information"
        _warn(path, what, constant)
        parts = {n: p for n, p in parts.items() if n not in constant}
    if not parts:
        raise DatasetFileError(f"{path}: every label column has a single value; nothing to score")
    return parts


def read_labels(
    path: str | Path,
    images,
    columns: Sequence[str] | None = None,
    *,
    file_column: str | None = None,
    max_classes: int = 20,
    num_bins: int = 20,
) -> LabelledImages:
    """The images of ``images`` named in the labels file ``path``, with their labels as factors.

    Args:
        path: a CSV (comma or tab) or CelebA-style whitespace file with a header line.
        images: the :class:`~pyrodis.data.images.ImageDataset` the files belong to; a row names
            its image by path inside the folder or by bare file name (when that is unique).
        columns: the label columns to use (default all but the file column).
        file_column: the column of file names (default the first named file/image/path/...,
            else the first column).
        max_classes: a column with at most this many distinct values is discrete.
        num_bins: bins of a continuous column.

    Rows naming no image, and rows with a missing value, are ignored with one warning each; a
    column with a single value carries no information and is dropped with one warning.
    """
    path = Path(path)
    rows = _rows(path)
    header, at = _header(path, rows, file_column)
    wanted = [c for i, c in enumerate(header) if i != at] if columns is None else list(columns)
    unknown = [c for c in wanted if c not in header or header.index(c) == at]
    if unknown or not wanted:
        raise DatasetFileError(f"{path}: no label columns {unknown}; the header is {header}")
    cols = [header.index(c) for c in wanted]
    body = _complete_rows(path, header, rows[1:], at, cols)
    binning = {"max_classes": max_classes, "num_bins": num_bins}
    found, indices = _match(path, body[at], images)
    rows = np.asarray(found)[np.argsort(indices, kind="stable")].tolist()
    order = np.argsort(indices, kind="stable")
    chosen = [[body[c][r] for r in rows] for c in cols]
    parts = _factor_columns(path, chosen, wanted, **binning)
    classes = np.stack([p[0] for p in parts.values()], axis=1)
    return LabelledImages(
        images,
        np.asarray(indices)[order],
        classes,
        list(parts),
        [p[1] for p in parts.values()],
        [p[2] for p in parts.values()],
    )
