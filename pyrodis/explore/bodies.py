"""Checks of what a request carries: each problem is a 4xx answer that names it, never a
traceback (``docs/explore.rst``)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from starlette.exceptions import HTTPException
from starlette.requests import Request

__all__ = ["MAX_ABS_VALUE", "MAX_BODY_BYTES", "check_code", "check_int", "read_json"]

MAX_BODY_BYTES = 64 * 1024
#: a latent value further than this from 0 is refused (the sliders span a few units)
MAX_ABS_VALUE = 1e3


def _no_constants(token: str) -> float:
    raise ValueError(f"{token} is not a number the explorer accepts")


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object of the request's body: 415 unless it is ``application/json``, 413 over
    ``MAX_BODY_BYTES``, 400 when it is not one JSON object (NaN and Infinity included)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, "send the body as JSON (Content-Type: application/json)")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise HTTPException(400, f"the body is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise HTTPException(400, f"the body must be a JSON object, got {type(data).__name__}")
    return data


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_code(value: Any, dim: int, name: str = "z") -> np.ndarray:
    """A code of ``dim`` finite numbers within ±``MAX_ABS_VALUE``, or a 422 naming the fault."""
    if not isinstance(value, list) or len(value) != dim:
        raise HTTPException(422, f"{name} must be a list of {dim} numbers (one per latent)")
    if not all(_number(v) for v in value):
        raise HTTPException(422, f"{name} must hold numbers only")
    if not all(math.isfinite(v) and abs(v) <= MAX_ABS_VALUE for v in value):
        raise HTTPException(422, f"{name} must hold finite numbers within ±{MAX_ABS_VALUE:g}")
    return np.asarray(value, dtype=np.float64)


def check_int(value: Any, name: str, low: int, high: int) -> int:
    """An integer in [low, high], or a 422 naming the range."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HTTPException(422, f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value
