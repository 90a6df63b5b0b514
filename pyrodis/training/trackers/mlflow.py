"""MLflow: the run's curves, pictures, parameters and files in an MLflow run (``pip install
"pyrodis[mlflow]"``; open them with ``mlflow ui``, ``docs/runs.rst``)."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from pyrodis.training.trackers.base import Tracker, TrackerUnavailable, flatten

__all__ = ["MLflowTracker"]

#: MLflow takes at most this many metrics or parameters in one batch
_BATCH = 100


def _mlflow() -> Any:
    try:
        import mlflow
    except ImportError as err:
        raise TrackerUnavailable(
            'tracking to MLflow needs the mlflow package: pip install "pyrodis[mlflow]"'
        ) from err
    return mlflow


def _param_value(value: Any) -> str:
    text = "none" if value is None else str(value)
    return text if len(text) <= 6000 else text[:5999] + "…"


class MLflowTracker(Tracker):
    """Log the run to an MLflow run: metrics by step, the configuration as parameters (flat
    dotted keys), pictures as images by step, files as artefacts.

    The writes run on one background thread, so a training step never waits for the store or a
    server; :meth:`flush` (called when ``run`` ends) waits for them, at most ``timeout`` seconds.

    Args:
        tracking_uri: where MLflow keeps runs: ``sqlite:///mlflow.db``, ``file:./mlruns``,
            ``http://host:5000``; default: ``MLFLOW_TRACKING_URI``, else MLflow's own default
            (``sqlite:///mlflow.db`` in the working directory, or ``./mlruns`` where it exists).
        experiment: the experiment's name (created when missing); default ``"pyrodis"``.
        run_name: the MLflow run's name (a new run only).
        run_id: continue this MLflow run instead of starting one (a resumed training run).
        tags: tags set on the run (e.g. ``{"pyrodis.study": "mini"}``).
        timeout: seconds :meth:`flush` waits for the background writes.
    """

    kind = "mlflow"

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        experiment: str = "pyrodis",
        run_name: str | None = None,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        super().__init__()
        mlflow = _mlflow()
        self.client = mlflow.MlflowClient(tracking_uri)
        self.tracking_uri = str(self.client.tracking_uri)
        self.timeout = timeout
        if run_id is None:
            found = self.client.get_experiment_by_name(experiment)
            exp_id = found.experiment_id if found else self.client.create_experiment(experiment)
            run = self.client.create_run(exp_id, tags=dict(tags or {}), run_name=run_name)
        else:
            run = self.client.get_run(run_id)  # raises when the store does not have it
            self.client.update_run(run_id, status="RUNNING")
            for key, value in (tags or {}).items():
                self.client.set_tag(run_id, key, value)
        self.run_id, self.experiment_id = run.info.run_id, run.info.experiment_id
        #: the status :meth:`close` gives the MLflow run ("KILLED" for a run that stopped early)
        self.end_status = "FINISHED"
        if run_id is not None:  # rows it holds already are not logged twice
            held = self.client.get_metric_history(run_id, "elbo/loss")
            self.resume_after = max((m.step for m in held), default=None)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyrodis-mlflow")
        self._pending: list[Future] = []

    # --- the background thread ----------------------------------------------------------------
    def _submit(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        self._raise_failed()
        self._pending.append(self._pool.submit(fn, *args, **kwargs))

    def _raise_failed(self) -> None:
        """Raise the first error of a finished background write; forget the finished ones."""
        done = [f for f in self._pending if f.done()]
        self._pending = [f for f in self._pending if not f.done()]
        for future in done:
            if not future.cancelled() and future.exception() is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                raise future.exception()

    def _flush(self) -> None:
        _, late = wait(self._pending, timeout=self.timeout)
        if late:
            self._pool.shutdown(wait=False, cancel_futures=True)
            raise TimeoutError(f"MLflow did not answer within {self.timeout:g} s")
        self._raise_failed()

    def _close(self) -> None:
        self._flush()
        self._pool.shutdown(wait=True)
        self.client.set_terminated(self.run_id, self.end_status)

    # --- the writes ---------------------------------------------------------------------------
    def _scalars(self, step: int, values: dict[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(k, float(v), now, step) for k, v in values.items()]
        for start in range(0, len(metrics), _BATCH):
            self._submit(
                self.client.log_batch, self.run_id, metrics=metrics[start : start + _BATCH]
            )

    def _images(self, step: int, images: dict[str, np.ndarray]) -> None:
        for name, image in images.items():
            self._submit(self.client.log_image, self.run_id, image, key=name, step=step)

    def _params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        flat = [Param(k, _param_value(v)) for k, v in flatten(params).items()]
        for start in range(0, len(flat), _BATCH):
            self._submit(self.client.log_batch, self.run_id, params=flat[start : start + _BATCH])

    def _artifact(self, path: Path) -> None:
        if path.is_dir():
            self._submit(self.client.log_artifacts, self.run_id, str(path), path.name)
        else:
            self._submit(self.client.log_artifact, self.run_id, str(path))

    def _link(self, name: str, target: str) -> None:
        self._submit(self.client.set_tag, self.run_id, name, target)
