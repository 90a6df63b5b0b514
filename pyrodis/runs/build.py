"""Build what a :class:`~pyrodis.runs.config.Config` describes: dataset, VAE, ELBO, schedule."""

from __future__ import annotations

import warnings
from typing import Any

import pyro.infer
import torch

from pyrodis.data import CorrelatedFactors, PairedFactors, get_dataset, open_images
from pyrodis.devices import resolve_device
from pyrodis.models import VAE, PairVAE
from pyrodis.runs.config import Config, ConfigError
from pyrodis.runs.objectives import build_objective
from pyrodis.training.schedules import Schedule, make_schedule

__all__ = [
    "build_dataset",
    "build_device",
    "build_elbo",
    "build_model",
    "build_schedule",
    "open_images_of",
    "OWN_IMAGES",
]


def build_elbo(config: Config) -> pyro.infer.ELBO:
    """The ELBO of ``config.objective`` (see :mod:`pyrodis.runs.objectives`)."""
    return build_objective(config.objective.name, config.objective.params)


def build_schedule(config: Config) -> Schedule:
    """The learning-rate schedule of ``config.optim`` over ``config.train.steps``."""
    try:
        return make_schedule(
            config.optim.schedule,
            total_steps=config.train.steps,
            warmup_steps=config.optim.warmup_steps,
            floor=config.optim.lr_floor,
        )
    except ValueError as err:
        raise ConfigError(f"optim.schedule: {err}") from err


def build_dataset(config: Config, training: bool = True, progress: bool = True) -> Any:
    """The ground-truth dataset; with ``training`` the correlated view and the pairs of weak
    supervision, if configured (evaluation always uses the independent grid of single images).
    ``data.name = "images"``: your own images at ``data.path`` (:func:`open_images_of`; a
    progress bar while a new folder is decoded, unless ``progress`` is False)."""
    if config.data.labels and config.data.name != OWN_IMAGES:
        raise ConfigError(
            f"data.labels is for your own images (data.name = {OWN_IMAGES!r}, --data PATH); "
            f"{config.data.name!r} has its own factors"
        )
    if config.data.name == OWN_IMAGES:
        dataset = open_images_of(config, progress)
    else:
        try:
            dataset = get_dataset(config.data.name, path=config.data.path)
        except ValueError as err:  # unknown name, or a file that is not the official layout
            raise ConfigError(f"[data]: {err}") from err
    if training and config.data.correlated:
        if len(config.data.correlated) != 2:
            raise ConfigError(
                f"data.correlated names two factors, e.g. ['scale', 'shape'], "
                f"got {config.data.correlated}"
            )
        try:
            dataset = CorrelatedFactors(
                dataset, pairs=[tuple(config.data.correlated)], sigma=config.data.correlation_sigma
            )
        except ValueError as err:
            raise ConfigError(f"[data] correlated: {err}") from err
    if training and config.data.pairs_k is not None:
        k = None if config.data.pairs_k == "random" else config.data.pairs_k
        try:
            dataset = PairedFactors(dataset, k=k)
        except ValueError as err:
            raise ConfigError(f"[data] pairs_k: {err}") from err
    return dataset


#: ``data.name`` of your own images (a folder or an array file at ``data.path``)
OWN_IMAGES = "images"
_WARNED: set[str] = set()


def open_images_of(config: Config, progress: bool = True) -> Any:
    """Your own images of ``config.data`` (a folder, decoded once into the cache of
    ``docs/data.rst``, or an array file), at ``data.size``/``channels``/``crop``; bad data is a
    :class:`ConfigError` saying what to fix, and the folder is never written to."""
    data = config.data
    if not data.path:
        raise ConfigError(
            f'data.name = "{OWN_IMAGES}" needs data.path: a folder of images or an array file '
            "(pyrodis train --data PATH)"
        )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            images = open_images(
                data.path, size=data.size, channels=data.channels, crop=data.crop, progress=progress
            )
    except ValueError as err:  # DatasetFileError: no images, none usable, wrong array, ...
        raise ConfigError(f"[data] path: {err}") from None
    for found in caught:  # a process that opens the same images twice warns once
        if str(found.message) not in _WARNED:
            _WARNED.add(str(found.message))
            warnings.warn(found.message, found.category, stacklevel=2)
    return images


def build_device(config: Config, device: str | None = None) -> torch.device:
    """The device of the run (``device`` overrides ``config.train.device``)."""
    try:
        return resolve_device(device or config.train.device)
    except ValueError as err:
        raise ConfigError(f"train.device: {err}") from err


def build_model(config: Config, dataset: Any) -> Any:
    """The VAE for ``dataset`` (its image shape and size N); a :class:`PairVAE` when the
    config asks for weak supervision (``model.aggregation``)."""
    kwargs = dict(
        latent_dim=config.model.latent_dim,
        image_shape=tuple(getattr(dataset, "dataset", dataset).observation_shape),
        likelihood=config.model.likelihood,
        architecture=config.model.architecture,
        num_data=len(dataset),
        precision=config.train.precision,
    )
    try:
        if config.model.aggregation is not None:
            return PairVAE(aggregation=config.model.aggregation, **kwargs)
        return VAE(**kwargs)
    except (KeyError, ValueError) as err:
        raise ConfigError(f"[model]: {err}") from err
