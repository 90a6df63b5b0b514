"""The package's shape: no import cycles, no lower layer importing a higher one, no module
citing material users do not have, and the one private Pyro method the ELBOs rely on."""

import ast
import inspect
import pathlib

import pyro
import pytest
import torch
from pyro.infer import Trace_ELBO

import pyrodis

ROOT = pathlib.Path(pyrodis.__file__).parent
#: layer of each top-level part; a module may import its own package or lower layers only
LAYERS = {
    "seeding": 0,
    "version": 0,
    "devices": 0,
    "figures": 0,
    "data": 1,
    "metrics": 1,
    "models": 2,
    "inference": 3,
    "diagnostics": 4,
    "runs": 5,
    "explore": 6,
    "cli_parser": 6,
    "cli": 7,
    "__main__": 8,
    "__init__": 8,
}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path) -> set[str]:
    """Every pyrodis module a file imports, at any depth (lazy and TYPE_CHECKING ones too)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pyrodis")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("pyrodis"):
                continue
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{base}.{alias.name}"
                found.add(sub if (ROOT.parent / (sub.replace(".", "/") + ".py")).exists() else base)
    return found - {module}


GRAPH = {_module_name(p): _imports(p) for p in ROOT.rglob("*.py")}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_module_imports_a_module_that_imports_it_back():
    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in GRAPH.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    cycles = sorted(m for m in GRAPH if m in reach(m))
    assert not cycles, f"modules on an import cycle: {cycles}"


def test_no_lower_layer_imports_a_higher_one():
    wrong = []
    for module, targets in GRAPH.items():
        for target in targets:
            a, b = _part(module), _part(target)
            if a != b and (LAYERS[b] > LAYERS[a] or (LAYERS[b] == LAYERS[a] and a != "__init__")):
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_the_package_cites_only_its_own_docs():
    offenders = [
        str(p.relative_to(ROOT.parent))
        for p in ROOT.rglob("*.py")
        if any(
            word in p.read_text()
            for word in ("REFERENCE §", "REFERENCE.md", "DESIGN.md", "shared/")
        )
    ]
    assert not offenders, f"cite docs/ instead of shared/ in {offenders}"


class _Counting(Trace_ELBO):
    calls = 0

    def _differentiable_loss_particle(self, model_trace, guide_trace):
        _Counting.calls += 1
        return super()._differentiable_loss_particle(model_trace, guide_trace)


def test_pyro_still_routes_every_loss_through_the_overridden_private_method():
    """pyrodis' ELBOs override Trace_ELBO._differentiable_loss_particle(model_trace,
    guide_trace) -> (loss float, surrogate tensor); if a Pyro release renames it or stops calling
    it from loss_and_grads/differentiable_loss, this fails (pyproject.toml bounds pyro-ppl)."""
    params = list(inspect.signature(Trace_ELBO._differentiable_loss_particle).parameters)
    assert params == ["self", "model_trace", "guide_trace"]

    def model():
        pyro.sample("z", pyro.distributions.Normal(0.0, 1.0))

    def guide():
        pyro.sample("z", pyro.distributions.Normal(pyro.param("m", torch.tensor(0.5)), 1.0))

    elbo = _Counting()
    elbo.loss_and_grads(model, guide)
    loss = elbo.differentiable_loss(model, guide)
    assert _Counting.calls == 2 and isinstance(loss, torch.Tensor)
    out = Trace_ELBO()._differentiable_loss_particle(*Trace_ELBO()._get_trace(model, guide, (), {}))
    assert isinstance(out, tuple) and len(out) == 2


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if not m.endswith("__main__")))
def test_every_module_imports(module):
    __import__(module)
