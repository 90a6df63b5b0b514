"""Which device to train and evaluate on: ``"auto" | "cpu" | "cuda" | "cuda:N" | "mps"``.

:func:`resolve_device` turns a setting into a :class:`torch.device`; ``"auto"`` picks an
available accelerator (CUDA, then Apple's MPS) and falls back to the CPU. Asking for a device
that is not there is an error that names the devices that are (``docs/runs.rst``).
"""

from __future__ import annotations

import torch

__all__ = ["available_devices", "resolve_device"]


def available_devices() -> list[str]:
    """The devices torch can use here, e.g. ``["cpu", "cuda:0", "cuda:1"]``."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """The :class:`torch.device` of a device setting (``None`` means ``"auto"``)."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    spec = "auto" if spec is None else str(spec).strip().lower()
    available = available_devices()
    if spec == "auto":
        accelerators = [d for d in available if d != "cpu"]
        return torch.device(accelerators[0] if accelerators else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise ValueError(
            f"unknown device {spec!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from None
    name = "cuda:0" if spec == "cuda" else str(device)
    if name not in available:
        raise ValueError(
            f"device {spec!r} is not available on this machine; available: {available} "
            "(or 'auto' to take an accelerator when there is one)"
        )
    return device
