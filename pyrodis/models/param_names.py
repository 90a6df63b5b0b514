"""Give every PyroModule instance its own parameters in Pyro's global param store.

A :class:`~pyro.nn.PyroModule` registers its parameters under names built from attribute paths:
a plain ``nn.Module`` child ``encoder`` goes through ``pyro.module("encoder", child)``, i.e.
``pyro.param("encoder$$$body.0.weight", tensor)``; a PyroModule child and the module's own
parameters go through ``pyro.param("<prefix>.<name>", tensor)``. ``pyro.param`` returns the
tensor ALREADY stored under that name. Two instances of the same class in one process (two
models, a model and its copy, a fresh model after another one trained) therefore share names, and
the second one's model/guide return the first one's tensors to the optimiser: ``SVI`` then steps
the first model's parameters and the second never trains, without any error.

:func:`claim_param_names`, called before a model/guide touches its children, removes from the
store every entry under the module's names whose tensor is not the module's own, so that the
registration that follows stores the module's tensors. Names stay the usual ones (checkpoints that
save the param store keep their keys); the module's own tensors are authoritative (restore a model
with ``load_state_dict``, not by loading the param store before the first call). Optimiser state
is keyed by tensor, so alternating between instances keeps each one's state.
"""

from __future__ import annotations

import pyro
import torch
from pyro.nn import PyroModule
from pyro.params.param_store import param_with_module_name

__all__ = ["claim_param_names", "param_store_names"]

_UNCONSTRAINED = "_unconstrained"


def _make_name(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def param_store_names(module: PyroModule) -> dict[str, torch.Tensor]:
    """The param-store names under which ``module`` registers its tensors, and those tensors.

    Follows :class:`~pyro.nn.PyroModule`: own parameters and ``PyroParam`` s (stored
    unconstrained) as ``<prefix>.<name>``, PyroModule children recursively under their own
    prefix, plain ``nn.Module`` children as ``<prefix>.<child>$$$<parameter path>``.
    """
    prefix = module.__dict__.get("_pyro_name", "")
    pyro_params = module.__dict__.get("_pyro_params", {})
    names: dict[str, torch.Tensor] = {}
    for name, tensor in module._parameters.items():
        if tensor is None:
            continue
        if name.endswith(_UNCONSTRAINED) and name[: -len(_UNCONSTRAINED)] in pyro_params:
            name = name[: -len(_UNCONSTRAINED)]
        names[_make_name(prefix, name)] = tensor
    for child_name, child in module._modules.items():
        if child is None:
            continue
        if isinstance(child, PyroModule):
            names.update(param_store_names(child))
            continue
        module_name = _make_name(prefix, child_name)
        for path, tensor in child.named_parameters():
            if tensor.requires_grad:
                names[param_with_module_name(module_name, path)] = tensor
    return names


def claim_param_names(module: PyroModule) -> list[str]:
    """Drop param-store entries under ``module``'s names that hold another instance's tensors.

    Call it at the top of each ``@pyro_method`` model/guide (before a child is accessed).
    Returns the names removed (empty when the store already holds this module's tensors).
    """
    if not isinstance(module, PyroModule):
        raise TypeError(
            f"claim_param_names takes a pyro.nn.PyroModule, got {type(module).__name__}; "
            "plain nn.Modules registered with pyro.module need a unique name instead"
        )
    store = pyro.get_param_store()
    stored = dict(store.named_parameters())
    removed = [
        name
        for name, tensor in param_store_names(module).items()
        if name in stored and stored[name] is not tensor
    ]
    for name in removed:
        del store[name]
    return removed
