"""Serving the explorer: bind the port (a clear error when it is taken), run uvicorn, open the
browser; in the foreground (the CLI) or in a background thread (a notebook, the tests).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Sequence
from typing import Any

__all__ = ["DEFAULT_PORT", "ExploreError", "Explorer", "require_web"]

DEFAULT_PORT = 8765
EXTRA = "pip install 'pyrodis[explore]'"


class ExploreError(RuntimeError):
    """The explorer cannot start; the message says what to do."""


def require_web() -> None:
    """Raise :class:`ExploreError` naming the extra when Starlette or uvicorn is missing."""
    for module in ("starlette", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            raise ExploreError(
                f"pyrodis explore needs {module}, which is not installed: {EXTRA}"
            ) from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one), or :class:`ExploreError`."""
    if not 0 <= int(port) <= 65535:
        raise ExploreError(f"--port must be from 0 to 65535, got {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), int(port), type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as err:
        raise ExploreError(f"cannot serve on host {host!r}: {err.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise ExploreError(
            f"cannot serve on {host}:{port} ({err.strerror}): the port is in use or not "
            "allowed; pick another with --port N (--port 0 takes any free port)"
        ) from None
    sock.set_inheritable(True)
    return sock


class Explorer:
    """A running explorer: ``url``, :meth:`stop`; built by :func:`pyrodis.explore.explore`.

    Args:
        app: the ASGI application (:func:`pyrodis.explore.app.build_app`).
        sock: the bound socket (:func:`bind`).
        host: the host it was bound to (for the URL).
    """

    def __init__(self, app: Any, sock: socket.socket, host: str) -> None:
        import uvicorn

        self.sock = sock
        port = sock.getsockname()[1]
        shown = f"[{host.strip('[]')}]" if ":" in host else host
        self.url = f"http://{shown}:{port}/"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> Explorer:
        """Serve in a background thread; return once the server answers."""
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ExploreError(f"the explorer did not start on {self.url}")
            time.sleep(0.02)
        return self

    def serve_forever(self, open_browser: bool = True) -> None:
        """Serve in this thread until Ctrl+C; open the page in the default browser first."""
        if open_browser:
            threading.Thread(target=self._open_when_ready, daemon=True).start()
        print(f"pyrodis explore: serving on {self.url} (Ctrl+C to stop)", flush=True)
        self.server.run(sockets=[self.sock])

    def _open_when_ready(self) -> None:
        for _ in range(500):
            if self.server.started:
                webbrowser.open(self.url)
                return
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> Explorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Explorer({self.url})"


def make_explorer(models: Sequence[Any], host: str, port: int) -> Explorer:
    """Match two models' latents, build the app, bind the port (warning off loopback)."""
    from .app import build_app
    from .matching import match_models

    matching = match_models(models[0], models[1]) if len(models) == 2 else None
    loopback = is_loopback(host)
    if not loopback:
        print(
            f"WARNING: serving on {host}, not on this machine's loopback: anyone who can reach "
            "it can look at these runs and rename their latents",
            file=sys.stderr,
            flush=True,
        )
    app = build_app(models, matching, allowed_hosts=None if loopback else ["*"])
    return Explorer(app, bind(host, port), host)
