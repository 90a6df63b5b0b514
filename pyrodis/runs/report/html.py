"""HTML rendering of the diagnostics report: one self-contained page (inline CSS, figures as
base64 ``data:`` URIs, nothing fetched from elsewhere), readable offline in any browser."""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}td:first-child,
th:first-child{text-align:left}figure{margin:1em 0}figcaption{font-size:.9em;color:#555}
img{max-width:100%;height:auto}pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:.85em}
.missing{color:#a33}td.text{text-align:left}details{margin:1em 0}summary{cursor:pointer}
"""

# Counts the images that decoded (naturalWidth > 0) into <body data-images-loaded="n/total">:
# a check a headless browser (or a person) can read; the page does not need it to display.
_IMAGE_CHECK = """
window.addEventListener('load',function(){var im=document.images,n=0;
for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0){n++;}}
document.body.setAttribute('data-images-loaded',n+'/'+im.length);});
"""


def esc(value) -> str:
    return html.escape(str(value))


def fmt(value) -> str:
    """An integer as is, a float with 4 significant digits, anything else as text."""
    if isinstance(value, bool) or value is None:
        return esc(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}" if math.isfinite(value) else esc(value)
    return esc(value)


def table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value) -> str:
    """A numeric cell (right-aligned, tabular digits) or a text cell (left-aligned)."""
    if isinstance(value, str) and len(value) > 24:
        return f'<td class="text">{fmt(value)}</td>'
    return f"<td>{fmt(value)}</td>"


def image_tag(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>\n{body}\n</section>'


def missing(text: str) -> str:
    return f'<p class="missing">{esc(text)}</p>'


_STATS = ("value", "mean", "std", "ci_low", "ci_high")


def _is_score(item) -> bool:
    return isinstance(item, Mapping) and any(s in item for s in _STATS)


def _has_scores(item) -> bool:
    return _is_score(item) or (
        isinstance(item, Mapping) and any(_has_scores(v) for v in item.values())
    )


def metric_rows(metrics: Mapping, prefix: str = "") -> list[list]:
    """Rows (name, value, mean, std, ci_low, ci_high) of every score in EvaluationResult.to_dict()
    output: a mapping holding any of those keys, named by its path (``dci.completeness``)."""
    rows = []
    for key, item in metrics.items():
        name = f"{prefix}{key}"
        if _is_score(item):
            rows.append([name, *(item.get(s, "") for s in _STATS)])
        if isinstance(item, Mapping):
            rows.extend(metric_rows({k: v for k, v in item.items() if k not in _STATS}, f"{name}."))
    return rows


def metric_settings(metrics: Mapping) -> dict:
    """The top-level entries that hold no score (step, seed, representation, overrides...)."""
    return {k: v for k, v in metrics.items() if not _has_scores(v)}


def pretty_json(value) -> str:
    return f"<pre>{esc(json.dumps(value, indent=2, sort_keys=True, default=str))}</pre>"


def page(title: str, sections: Sequence[str]) -> str:
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body><h1>{esc(title)}</h1>\n{body}\n<script>{_IMAGE_CHECK}</script></body></html>\n"
    )
