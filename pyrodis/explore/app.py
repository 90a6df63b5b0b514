"""The explorer's web application (Starlette): the page, its assets and a small JSON/PNG API.

Routes (run = 0 or 1, the runs the server was started with; nothing else is reachable)::

    GET  /                                   the page (static/index.html)
    GET  /static/...                         its JS and CSS, shipped in the package
    GET  /api/session                        every run's latents (KL order, ranges, factors,
                                             names) and the matching of two runs
    GET  /api/run/{run}/image/{index}        dataset image ``index`` as a PNG
    POST /api/run/{run}/start                {"kind": "data"|"prior"|"posterior", "index", "seed"}
                                             -> {"z": [...], "index": ...}
    POST /api/run/{run}/decode               {"z": [...]} -> the decoded image, PNG
    POST /api/run/{run}/traversal            {"z", "latent", "steps"} -> one strip, PNG
    PUT  /api/run/{run}/names/{latent}       {"name": "pose"} -> {"names": {...}}

Decoding runs in Starlette's thread pool (the event loop keeps serving other tabs), under
``torch.no_grad`` and a per-model lock; a traversal strip is one decoder call.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pyrodis.diagnostics.latent_names import check_latent_name

from .bodies import check_code, check_int, read_json
from .images import png_bytes, strip_png
from .matching import Matching
from .model import ExploredModel

__all__ = ["STATIC", "build_app"]

STATIC = Path(__file__).parent / "static"
MAX_STEPS = 32
START_KINDS = ("data", "prior", "posterior")
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]


def _png(data: bytes) -> Response:
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})


def _error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, HTTPException):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    return JSONResponse({"error": f"internal error ({type(exc).__name__})"}, status_code=500)


def _model(request: Request) -> ExploredModel:
    models = request.app.state.models
    run = request.path_params["run"]
    if not 0 <= run < len(models):
        raise HTTPException(404, f"no run {run}: this explorer serves runs 0..{len(models) - 1}")
    return models[run]


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def _session(request: Request) -> Response:
    models, matching = request.app.state.models, request.app.state.matching
    runs = [m.describe() for m in models]
    for m, described in zip(models, runs):
        for item in described["latents"]:
            j = item["index"]
            item["center"], item["spread"] = float(m.center[j]), float(m.spread[j])
    return JSONResponse({"runs": runs, "matching": matching and matching.to_dict()})


async def _image(request: Request) -> Response:
    m = _model(request)
    i = check_int(request.path_params["index"], "index", 0, m.num_data - 1)
    x = await run_in_threadpool(m.observations, [i])
    return _png(png_bytes(x[0]))


async def _start(request: Request) -> Response:
    m, body = _model(request), await read_json(request)
    kind = body.get("kind", "data")
    if kind not in START_KINDS:
        raise HTTPException(422, f"kind must be one of {START_KINDS}, got {kind!r}")
    index = body.get("index")
    if index is not None:
        index = check_int(index, "index", 0, m.num_data - 1)
    seed = check_int(body.get("seed", 0), "seed", 0, 2**31 - 1)
    z, index = await run_in_threadpool(m.start_code, kind, index, seed)
    return JSONResponse({"z": [float(v) for v in z], "index": index})


async def _decode(request: Request) -> Response:
    m, body = _model(request), await read_json(request)
    z = check_code(body.get("z"), m.latent_dim)
    images = await run_in_threadpool(m.decode, z[None])
    return _png(png_bytes(images[0]))


async def _traversal(request: Request) -> Response:
    m, body = _model(request), await read_json(request)
    z = check_code(body.get("z"), m.latent_dim)
    j = check_int(body.get("latent"), "latent", 0, m.latent_dim - 1)
    steps = check_int(body.get("steps", 9), "steps", 2, MAX_STEPS)
    codes = np.repeat(z[None], steps, axis=0)
    codes[:, j] = np.linspace(m.low[j], m.high[j], steps)
    images = await run_in_threadpool(m.decode, codes)  # one decoder call for the strip
    return _png(strip_png(images))


async def _name(request: Request) -> Response:
    m = _model(request)
    j = request.path_params["latent"]
    if not 0 <= j < m.latent_dim:
        raise HTTPException(404, f"no latent {j}: run {m.name} has latents 0..{m.latent_dim - 1}")
    body = await read_json(request)
    try:
        text = check_latent_name(body.get("name"))
    except ValueError as err:
        raise HTTPException(422, str(err)) from None
    try:
        names = await run_in_threadpool(m.set_name, j, text)
    except OSError as err:
        raise HTTPException(409, f"could not save the names file: {err.strerror}") from None
    return JSONResponse({"names": {str(k): v for k, v in names.items()}})


_API = "/api/run/{run:int}"
ROUTES = [
    Route("/", _index),
    Route("/api/session", _session),
    Route(_API + "/image/{index:int}", _image),
    Route(_API + "/start", _start, methods=["POST"]),
    Route(_API + "/decode", _decode, methods=["POST"]),
    Route(_API + "/traversal", _traversal, methods=["POST"]),
    Route(_API + "/names/{latent:int}", _name, methods=["PUT"]),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]


def build_app(
    models: Sequence[ExploredModel],
    matching: Matching | None = None,
    allowed_hosts: Sequence[str] | None = None,
) -> Starlette:
    """The application serving ``models`` (one or two); ``allowed_hosts``: the Host headers
    accepted (default: loopback names only, which defeats DNS rebinding; ``["*"]``: any)."""
    if not 1 <= len(models) <= 2:
        raise ValueError(f"the explorer serves one model or two side by side, got {len(models)}")
    hosts = list(allowed_hosts) if allowed_hosts is not None else LOOPBACK_HOSTS
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
        exception_handlers={HTTPException: _error, Exception: _error},
    )
    app.state.models, app.state.matching = list(models), matching
    return app
