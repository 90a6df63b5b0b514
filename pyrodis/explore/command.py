"""``pyrodis explore RUN [RUN2]`` and :func:`explore`, its Python twin (``docs/explore.rst``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .server import DEFAULT_PORT, ExploreError, Explorer, make_explorer, require_web

__all__ = ["add_arguments", "explore", "load_models", "main", "run_from_args"]


def _as_model(item: Any, dataset: Any, num_points: int, seed: int, device: str | None, labels=None):
    from pyrodis.runs import CheckpointError, ConfigError, load_run

    from .model import ExploredModel

    if isinstance(item, (str, os.PathLike)):
        path = Path(item)
        if not path.is_dir():
            raise ExploreError(f"{path} is not a run directory (train one with `pyrodis train`)")
        try:
            item = load_run(path, device=device)
        except (FileNotFoundError, ConfigError, CheckpointError) as err:
            raise ExploreError(f"cannot explore {path}: {err}") from None
    if hasattr(item, "vae") and hasattr(item, "path"):  # a loaded run
        name = Path(item.path).name
        return ExploredModel(item.vae, item.dataset if dataset is None else dataset, name=name,
                             run_dir=item.path, num_points=num_points, seed=seed,
                             **(labels or {}))  # fmt: skip
    if dataset is None:
        raise ExploreError(
            "a model needs the images to explore: explore(vae, images) with a tensor "
            "(N, C, H, W) or a dataset"
        )
    name = type(item).__name__
    return ExploredModel(
        item, dataset, name=name, num_points=num_points, seed=seed, **(labels or {})
    )


def load_models(
    items: Sequence[Any],
    datasets: Sequence[Any] | None = None,
    num_points: int = 2_000,
    seed: int = 0,
    device: str | None = None,
    labels: Sequence[dict | None] | None = None,
) -> list:
    """One or two :class:`~pyrodis.explore.model.ExploredModel` from run directories, loaded
    runs or VAEs (each with its dataset); a run directory is loaded on ``device`` (``None``: the
    run's own ``train.device``); ``labels``: per item ``None`` or ``{"factors": (N, K) array,
    "factor_names": [...]}``, the factor labels of images that carry none."""
    if not 1 <= len(items) <= 2:
        raise ExploreError(f"explore one run or two side by side, got {len(items)}")
    datasets = list(datasets) if datasets is not None else [None] * len(items)
    labels = list(labels) if labels is not None else [None] * len(items)
    return [
        _as_model(i, d, num_points, seed, device, lab) for i, d, lab in zip(items, datasets, labels)
    ]


def explore(
    run_or_model: Any,
    dataset: Any = None,
    *,
    compare: Any = None,
    compare_dataset: Any = None,
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = True,
    block: bool = False,
    num_points: int = 2_000,
    seed: int = 0,
    device: str | None = None,
    factors: Any = None,
    factor_names: Sequence[str] | None = None,
) -> Explorer:
    """Explore a run directory, a loaded run, or a VAE with its images, in the browser.

    Args:
        run_or_model: a run directory, a run from :func:`pyrodis.load_run`, or a pyrodis VAE.
        dataset: the images a VAE is explored on (a tensor (N, C, H, W) or a dataset); a run
            uses its own dataset unless this is given.
        compare: a second run or VAE shown beside the first, latents matched (UDR's matching).
        compare_dataset: the second model's images (a VAE needs them).
        host, port: where to serve (port 0: any free port; host 127.0.0.1: this machine only).
        open_browser: open the page in the default browser.
        block: serve until Ctrl+C; else serve in a background thread and return at once.
        num_points, seed: images encoded at start-up (KL order, ranges, factor MI) and the seed.
        device: where a run directory is loaded (``None``: the run's own ``train.device``).
        factors, factor_names: (N, K) integer factor labels of ``dataset`` (and their names) for
            images that carry none: each slider then shows its most informative factor.

    Returns the running :class:`~pyrodis.explore.server.Explorer` (``.url``, ``.stop()``).
    """
    require_web()
    items = [run_or_model] + ([] if compare is None else [compare])
    labels = None if factors is None else {"factors": factors, "factor_names": factor_names}
    datasets = [dataset, compare_dataset][: len(items)]
    models = load_models(items, datasets, num_points, seed, device, [labels, None][: len(items)])
    server = make_explorer(models, host, port)
    if block:
        server.serve_forever(open_browser)
        return server
    server.start()
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    return server


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The arguments of ``pyrodis explore``."""
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="one or two run dirs")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0: any free port")
    parser.add_argument("--host", default="127.0.0.1", help="serve beyond this machine (warns)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument(
        "--device", default=None, help="where the runs decode (default: each run's train.device)"
    )
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Serve the runs of parsed ``pyrodis explore`` arguments until Ctrl+C; 0, or 2 with a
    message on stderr when it cannot start."""
    try:
        require_web()
        if len(args.runs) > 2:
            raise ExploreError(f"explore one run or two side by side, got {len(args.runs)}")
        device = getattr(args, "device", None)
        models = load_models(args.runs, device=device)
        server = make_explorer(models, args.host, args.port)
    except (ExploreError, ValueError, TypeError) as err:
        print(f"pyrodis explore: error: {err}", file=sys.stderr)
        return 2
    server.serve_forever(open_browser=not args.no_browser)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pyrodis.explore RUN [RUN2] [--port N] [--host H] [--no-browser]``."""
    parser = add_arguments(argparse.ArgumentParser(prog="pyrodis explore"))
    return run_from_args(parser.parse_args(argv))
