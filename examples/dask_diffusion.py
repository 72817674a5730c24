"""The textbook diffusion step past one machine: one exprjit expression,
evaluated for N steps by ``exprjit.dask`` on a grid larger than a worker's
memory limit.

    python examples/dask_diffusion.py                  # 2 workers, 300 MiB each, ~1 GB grid
    python examples/dask_diffusion.py --quick          # small sizes (for tests)
    python examples/dask_diffusion.py --scheduler tcp://host:8786   # a real cluster

The step (explicit Euler for du/dt = D laplacian(u), periodic 2-d grid,
5-point laplacian) is written once, with ``roll``::

    u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)

``exprjit.dask.evaluate`` turns each step into one periodic halo exchange
(depth 1, from the shifts) and one fused exprjit kernel per chunk. The
initial grid is generated chunk by chunk on the workers (never on the
client), and only two numbers come back: the total heat (conserved by the
step) and the maximum, both computed by exprjit reductions on the cluster.

It prints:

1. the check: the same code on a grid small enough for numpy, against
   ``numpy.roll`` steps on the whole array (equal bit for bit: the step
   has only additions and multiplications, in numpy's order);
2. the big run: time through ``exprjit.dask`` and time for the same step
   as a dask graph of numpy operations (``map_overlap`` of numpy's
   ``roll``, ``+``, ``*``: the same halo exchange, one temporary per
   operator), on the same cluster and data, and their ratio.
"""

from __future__ import annotations

import argparse
import time

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

import exprjit
import exprjit.dask

STEP = "u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)"
D, DT = 1.0, 0.2


def initial_block(block_info=None):
    """One chunk of the initial grid, made on the worker from its global
    position: a smooth wave plus a hot rectangle."""
    info = block_info[None]
    n, m = info["shape"]
    (r0, r1), (c0, c1) = info["array-location"]
    y = np.arange(r0, r1, dtype=np.float64)[:, None] / n
    x = np.arange(c0, c1, dtype=np.float64)[None, :] / m
    u = 0.5 + 0.25 * np.sin(2 * np.pi * x) * np.cos(4 * np.pi * y)
    u = u + ((y > 0.25) & (y < 0.5) & (x > 0.3) & (x < 0.5))
    return u


def initial(size: int, chunk: int) -> da.Array:
    return da.map_blocks(
        initial_block,
        chunks=da.core.normalize_chunks(chunk, (size, size)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )


def steps_exprjit(u: da.Array, n: int) -> da.Array:
    for _ in range(n):
        u = exprjit.dask.evaluate(STEP, {"u": u, "D": D, "dt": DT})
    return u


def numpy_steps(u: np.ndarray, n: int) -> np.ndarray:
    for _ in range(n):
        u = u + D * DT * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u)
    return u


def steps_dask_numpy(u: da.Array, n: int) -> da.Array:
    """The same step as a dask graph of numpy operations, with the same
    halo exchange (``map_overlap``, depth 1, periodic): numpy's ``roll``,
    ``+``, ``*`` on each extended chunk, one temporary per operator. (A
    graph of ``da.roll`` and dask's operators is far slower still: each
    ``da.roll`` splits chunks, and the sums re-align them; see
    benches/dask_graphs.py.)"""
    for _ in range(n):
        u = u.map_overlap(numpy_steps, depth=1, boundary="periodic", n=1, meta=np.empty((0, 0)))
    return u


def summary(u: da.Array):
    """Total heat and maximum, reduced on the cluster by exprjit."""
    return exprjit.dask.evaluate("sum(u)", {"u": u}), exprjit.dask.evaluate("max(u)", {"u": u})


def check(size: int, chunk: int, steps: int) -> None:
    u0 = initial(size, chunk)
    got = steps_exprjit(u0, steps).compute()
    want = numpy_steps(u0.compute(), steps)
    diff = float(np.max(np.abs(got - want)))
    equal = bool(np.array_equal(got, want))
    print(f"check: {size}x{size}, chunks {chunk}, {steps} steps, exprjit.dask vs numpy: "
          f"{'equal' if equal else 'DIFFERENT'} (max |diff| {diff:g})")
    if not equal:
        raise SystemExit("check failed")


def big(size: int, chunk: int, steps: int, limit: float, workers: int) -> None:
    grid = size * size * 8
    print(f"grid: {size}x{size} float64 = {grid / 2**20:.0f} MiB in {chunk}x{chunk} chunks; "
          f"worker memory limit {limit / 2**20:.0f} MiB x {workers} workers "
          f"(grid = {grid / limit:.1f}x one worker's limit)")
    u0 = initial(size, chunk)
    heat0, _ = dask.compute(*summary(u0))
    times = {}
    results = {}
    for label, run in (("exprjit.dask", steps_exprjit), ("dask of numpy ops", steps_dask_numpy)):
        t = time.perf_counter()
        heat, peak = dask.compute(*summary(run(u0, steps)))
        times[label] = time.perf_counter() - t
        results[label] = (float(heat), float(peak))
        print(f"{label}: {steps} steps in {times[label]:.2f} s; "
              f"heat {float(heat):.6f} (initially {float(heat0):.6f}), max {float(peak):.6f}")
    a, b = results["exprjit.dask"], results["dask of numpy ops"]
    print(f"the two runs agree: heat {abs(a[0] - b[0]) / abs(b[0]):.1e} relative, max {abs(a[1] - b[1]):.1e}")
    print(f"ratio: dask of numpy ops / exprjit.dask = "
          f"{times['dask of numpy ops'] / times['exprjit.dask']:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="300MiB", help="per worker (LocalCluster only)")
    p.add_argument("--size", type=int, default=11000)
    p.add_argument("--chunk", type=int, default=1000)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    p.add_argument("--scheduler", help="address of a running scheduler instead of a LocalCluster")
    args = p.parse_args()
    if args.quick:
        args.size, args.chunk, args.steps, args.memory_limit = 1200, 300, 2, "200MiB"

    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        info = client.scheduler_info(n_workers=-1)["workers"]
        limit = min(w["memory_limit"] for w in info.values())
        print(f"workers: {len(info)}, exprjit {exprjit.__version__}")
        check(240, 70, 6)
        big(args.size, args.chunk, args.steps, limit, len(info))
        threads = sorted(set(client.run(exprjit.get_num_threads).values()))
        print(f"exprjit threads per worker (capped by exprjit.dask): {threads}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
