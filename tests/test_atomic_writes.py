"""Every file pyrodis writes goes through :mod:`pyrodis.atomic`: a failed or interrupted write
leaves the previous file intact and no temporary behind; the package holds no other plain write."""

import ast
import errno
import pathlib

import pytest

import pyrodis
from pyrodis import atomic
from pyrodis.atomic import FileWriteError, atomic_open, atomic_path, write_bytes, write_text

ROOT = pathlib.Path(pyrodis.__file__).parent

#: plain writes that are so by design: "file::function::call" -> why
ALLOWED = {
    "pyrodis/runs/run_log.py::append::open": (
        "log.csv gains one row per logged step by appending (rewriting it every step would cost "
        "O(steps^2)); a row cut off by a crash is skipped with a warning by read_log and every "
        "checkpoint holds the full history, from which --resume rewrites log.csv atomically"
    ),
    "pyrodis/runs/run_directory.py::lock::os.open": (
        "RUN/.lock is the flock target: the lock lives on that inode, so it is opened in place; "
        "it holds only the holder's pid, never data"
    ),
    "pyrodis/runs/run_directory.py::create::write_bytes": (
        "an empty probe file, removed at once, that tests the directory is writable"
    ),
    "pyrodis/runs/checkpoint.py::save_checkpoint::torch.save": (
        "serialises into an in-memory buffer, which write_bytes then writes atomically"
    ),
    "pyrodis/explore/images.py::_encode::save": "a PNG into an in-memory buffer, served; no file",
    "pyrodis/data/image_cache.py::_reserve::open": (
        "preallocates the image cache's temporary (posix_fallocate): writes no data"
    ),
    # image memmaps filled by worker processes under a temporary name, then fsynced (the "rb+"
    # open) and renamed over the final file: the same atomic pattern, by path across processes
    "pyrodis/data/image_cache.py::decode_files::open": "fsyncs a filled temporary before rename",
    "pyrodis/data/npz_mmap.py::_stream_to_npy::open": "fsyncs a filled temporary before rename",
}

_PATH_WRITERS = {"savefig", "to_parquet", "to_csv", "save", "savez", "savez_compressed", "dump"}
_WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"}


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        base = func.value.id if isinstance(func.value, ast.Name) else ""
        return (
            f"{base}.{func.attr}" if base in ("os", "np", "numpy", "torch", "json") else func.attr
        )
    return func.id if isinstance(func, ast.Name) else ""


def _mode(call: ast.Call, position: int) -> str:
    args = [
        *call.args[position : position + 1],
        *(k.value for k in call.keywords if k.arg == "mode"),
    ]
    return next((a.value for a in args if isinstance(a, ast.Constant)), "r")


def _is_plain_write(call: ast.Call, temporaries: set[str]) -> bool:
    name = _call_name(call.func)
    first = call.args[0] if call.args else None
    if name == "open":  # builtin open(path, mode) or Path.open(mode)
        mode = _mode(call, 1 if isinstance(call.func, ast.Name) else 0)
        return any(c in mode for c in "wax+")
    if name == "os.open":
        flags = {n.attr for n in ast.walk(call) if isinstance(n, ast.Attribute)}
        return bool(flags & _WRITE_FLAGS)
    if name in ("write_text", "write_bytes"):
        return isinstance(call.func, ast.Attribute)  # Path.write_*; the helpers are plain names
    if name.split(".")[-1] in _PATH_WRITERS and name not in ("json.dump", "dump"):
        target = call.args[1] if name in ("torch.save",) and len(call.args) > 1 else first
        return not (isinstance(target, ast.Name) and target.id in temporaries)
    return False


def _plain_writes(path: pathlib.Path) -> list[tuple[str, int]]:
    """``(file::function::call, line)`` of every write in ``path`` not through pyrodis.atomic (a
    path writer may write the temporary an enclosing ``with atomic_path(...) as tmp`` yields)."""
    name = str(path.relative_to(ROOT.parent))
    found = []

    def visit(node: ast.AST, function: str, temporaries: set[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and _call_name(call.func) == "atomic_path":
                    if isinstance(item.optional_vars, ast.Name):
                        temporaries = temporaries | {item.optional_vars.id}
        if isinstance(node, ast.Call) and _is_plain_write(node, temporaries):
            found.append((f"{name}::{function}::{_call_name(node.func)}", node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, function, temporaries)

    visit(ast.parse(path.read_text()), "<module>", set())
    return found


def test_no_plain_write_outside_the_atomic_helper():
    writes = [
        (key, f"{key.split('::')[0]}:{line}")
        for path in sorted(ROOT.rglob("*.py"))
        if path.name != "atomic.py" or path.parent != ROOT
        for key, line in _plain_writes(path)
    ]
    plain = [where for key, where in writes if key not in ALLOWED]
    assert not plain, "write these through pyrodis.atomic (or allow them with a reason):\n" + (
        "\n".join(plain)
    )
    unused = sorted(set(ALLOWED) - {key for key, _ in writes})
    assert not unused, f"no longer a plain write: remove from ALLOWED {unused}"


def test_the_scan_finds_each_kind_of_plain_write(tmp_path, monkeypatch):
    source = (
        "def f(p, fig, df):\n"
        "    p.write_text('x')\n"
        "    open(p, 'w')\n"
        "    p.open(mode='ab')\n"
        "    fig.savefig(p)\n"
        "    torch.save({}, p)\n"
        "    with atomic_path(p) as tmp:\n"
        "        df.to_parquet(tmp)\n"
        "        fig.savefig(p)\n"
        "    open(p)\n"
    )
    fake = tmp_path / "pyrodis" / "fake.py"
    fake.parent.mkdir()
    fake.write_text(source)
    monkeypatch.setattr(f"{__name__}.ROOT", fake.parent)
    lines = [line for _, line in _plain_writes(fake)]
    assert lines == [2, 3, 4, 5, 6, 9]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    write_text(path, '{"old": 1}')

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full_disk)  # the flush fails as on a full disk
    with pytest.raises(FileWriteError, match=r"cannot write .*report.json: No space left"):
        write_text(path, '{"new": 2}')
    monkeypatch.undo()
    assert path.read_text() == '{"old": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_an_interrupt_inside_the_block_keeps_the_old_file(tmp_path):
    path = tmp_path / "figure.png"
    write_bytes(path, b"old")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["figure.png"]
    with atomic_open(path, "w") as fh:
        fh.write("new")
    assert path.read_text() == "new"
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"):
        atomic_open(path, "a").__enter__()
