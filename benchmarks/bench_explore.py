"""Latency of ``pyrodis explore``: from a slider value to a decoded image served, through the real
HTTP server (uvicorn) on loopback, with the 64×64 conv decoder of the common setting on the CPU.

Run:  OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_explore.py [--requests 300] [--threads 2]
      [--run RUN]

Without ``--run`` the model is a freshly initialised VAE (Locatello et al.'s conv encoder and
decoder, 10 latents, 1×64×64; the weights do not change the cost) explored on 2,000 random binary
images. Prints:

- one client: latency per request (POST /api/run/0/decode with a new slider value → the PNG body
  received), p50 / p95 / mean over ``--requests`` requests on one keep-alive connection;
- the parts of it: the decoder call alone and the PNG encoding alone (medians);
- four clients at once (threads, one connection each): images per second and their latency p95;
- the goal: p95 ≤ 50 ms for one client.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import threading
import time
from datetime import datetime, timezone

import numpy as np
import torch

from pyrodis.explore.images import png_bytes
from pyrodis.explore.model import ExploredModel
from pyrodis.explore.server import make_explorer
from pyrodis.models import VAE


def _model(run: str | None) -> ExploredModel:
    if run is not None:
        from pyrodis.explore.command import load_models

        return load_models([run], num_points=1_000)[0]
    torch.manual_seed(0)
    vae = VAE(latent_dim=10, image_shape=(1, 64, 64), architecture="locatello").eval()
    images = (torch.rand(2_000, 1, 64, 64) > 0.9).float()
    return ExploredModel(vae, images, name="bench", num_points=1_000)


def _codes(model: ExploredModel, n: int, seed: int) -> list[list[float]]:
    """Slider positions: a random code moved one latent at a time, as a dragged slider does."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(model.low, model.high)
    out = []
    for i in range(n):
        j = i % model.latent_dim
        z[j] = rng.uniform(model.low[j], model.high[j])
        out.append([float(v) for v in z])
    return out


def _client(url: str, codes: list[list[float]], times: list[float]) -> None:
    import httpx

    # TCP_NODELAY as browsers set it: without it the body waits on Nagle + delayed ACK (~40 ms)
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    transport = httpx.HTTPTransport(socket_options=nodelay)
    with httpx.Client(base_url=url, timeout=30, transport=transport) as http:
        for z in codes:
            start = time.perf_counter()
            answer = http.post("api/run/0/decode", json={"z": z})
            answer.read()
            times.append(time.perf_counter() - start)
            assert answer.status_code == 200 and answer.content[:4] == b"\x89PNG"


def _parts(model: ExploredModel, codes: list[list[float]]) -> tuple[float, float]:
    dec, enc = [], []
    for z in codes[:100]:
        start = time.perf_counter()
        image = model.decode(np.asarray([z]))
        dec.append(time.perf_counter() - start)
        start = time.perf_counter()
        png_bytes(image[0])
        enc.append(time.perf_counter() - start)
    return float(np.median(dec)), float(np.median(enc))


def _ms(values) -> str:
    v = np.asarray(values) * 1e3
    return f"p50 {np.percentile(v, 50):6.1f} ms   p95 {np.percentile(v, 95):6.1f} ms   mean {v.mean():6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests of the one client")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--run", default=None, help="a run directory instead of a fresh VAE")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = _model(args.run)
    codes = _codes(model, args.requests, seed=0)
    decode_s, png_s = _parts(model, codes)
    with make_explorer([model], "127.0.0.1", 0).start() as server:
        _client(server.url, codes[:20], [])  # warm-up
        one: list[float] = []
        _client(server.url, codes, one)
        many: list[list[float]] = [[] for _ in range(4)]
        per = max(args.requests // 2, 25)
        threads = [
            threading.Thread(target=_client, args=(server.url, _codes(model, per, k + 1), many[k]))
            for k in range(4)
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    flat = [t for ts in many for t in ts]
    p95 = np.percentile(np.asarray(one) * 1e3, 95)
    print(f"# pyrodis explore latency, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} with {args.threads} threads, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"model: {'run ' + args.run if args.run else 'fresh locatello VAE, 10 latents, 1x64x64'}")
    print(
        f"decoder call alone (median): {decode_s * 1e3:.1f} ms; PNG encoding: {png_s * 1e3:.2f} ms"
    )
    print(f"1 client,  {len(one)} requests: {_ms(one)}")
    print(f"4 clients, {len(flat)} requests: {len(flat) / wall:.1f} images/s; {_ms(flat)}")
    print(f"goal p95 <= 50 ms (1 client): {'met' if p95 <= 50 else 'NOT met'} ({p95:.1f} ms)")


if __name__ == "__main__":
    main()
