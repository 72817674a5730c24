"""The same expressions as dask graphs of numpy operations and through
``exprjit.dask``, on the same cluster and the same data, in one run: median
wall time of several runs and the peak memory of the workers while each
runs.

    python benches/dask_graphs.py                 # 2 workers x 1 thread, 4000 x 4000
    python benches/dask_graphs.py --size 2000 --runs 3
    python benches/dask_graphs.py --scheduler tcp://host:8786

Inputs are generated on the workers and persisted before timing; each run
computes the result into worker memory (``persist`` and ``wait``), then
drops it; each run's output gets new keys (``fresh``), since dask's keys
are deterministic and a result still held would make the next run free.
Peak memory is the largest sum over workers of their process
memory, sampled every 0.1 s by ``distributed.diagnostics.MemorySampler``
during the runs of that row. The printout starts with the machine (CPU
model, cores, load average), since a loaded machine says little.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import uuid

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster, wait
from distributed.diagnostics import MemorySampler

import exprjit
import exprjit.dask

D, DT = 1.0, 0.2


def numpy_step_block(u):
    return u + D * DT * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u)


#: (label, exprjit expression, the same as a dask graph of numpy operations)
ROWS = [
    ("a*b + c", "a*b + c", lambda a, b, c, u: a * b + c),
    (
        "2*a + 3*b*c - a/(b+1.5) + c*c",
        "2*a + 3*b*c - a/(b+1.5) + c*c",
        lambda a, b, c, u: 2 * a + 3 * b * c - a / (b + 1.5) + c * c,
    ),
    ("a - mean(a)", "a - mean(a)", lambda a, b, c, u: a - a.mean()),
    ("sum(a*b, axis=1)", "sum(a*b, axis=1)", lambda a, b, c, u: (a * b).sum(axis=1)),
    ("sqrt(sum(a*a))", "sqrt(sum(a*a))", lambda a, b, c, u: da.sqrt((a * a).sum())),
    (
        "diffusion step (numpy: da.roll)",
        "u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)",
        lambda a, b, c, u: u + D * DT * (da.roll(u, 1, 0) + da.roll(u, -1, 0) + da.roll(u, 1, 1) + da.roll(u, -1, 1) - 4 * u),
    ),
    (
        "diffusion step (numpy: map_overlap)",
        "u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)",
        lambda a, b, c, u: u.map_overlap(numpy_step_block, depth=1, boundary="periodic", meta=np.empty((0, 0))),
    ),
]


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{model}; {os.cpu_count()} cores; load average {load}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, numpy {np.__version__}, dask {dask.__version__}, "
            f"exprjit {exprjit.__version__}")


def _same(x):
    return x


def fresh(r: da.Array) -> da.Array:
    """``r`` under new output keys (a no-op task per chunk, which dask
    fuses into the last layer's task where it can): the intermediate keys
    are freed once a run finishes, the output keys are all a run keeps."""
    return r.map_blocks(_same, name=f"bench-{uuid.uuid4().hex}", dtype=r.dtype, meta=r._meta)


def timed(client, build, inputs, runs: int, sampler: MemorySampler, label: str):
    times = []
    with sampler.sample(label, interval=0.1):
        for _ in range(runs):
            # New output keys every run (see ``fresh``).
            r = fresh(build())
            t = time.perf_counter()
            f = client.persist(r)
            wait(f)
            times.append(time.perf_counter() - t)
            del f, r
    samples = sampler.samples.get(label) or [(0.0, float("nan"))]
    peak = float(max(v for _, v in samples))
    return statistics.median(times), peak


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--size", type=int, default=4000)
    p.add_argument("--chunk", type=int, default=1000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--scheduler", help="address of a running scheduler instead of a LocalCluster")
    args = p.parse_args()

    print("machine:", machine())
    if args.scheduler:
        client, cluster = Client(args.scheduler), None
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        rs = da.random.RandomState(7)
        shape, chunks = (args.size, args.size), (args.chunk, args.chunk)
        a, b, c, u = client.persist([rs.standard_normal(shape, chunks=chunks) for _ in range(4)])
        wait([a, b, c, u])
        n = len(client.nthreads())
        print(f"cluster: {n} workers x 1 thread; data: 4 arrays {args.size}x{args.size} float64 "
              f"({args.size * args.size * 8 / 2**20:.0f} MiB each) in {args.chunk}x{args.chunk} chunks; "
              f"median of {args.runs} runs")
        sampler = MemorySampler()
        inputs = [a, b, c, u]
        env = {"a": a, "b": b, "c": c, "u": u, "D": D, "dt": DT}
        print()
        print("| expression | dask of numpy | exprjit.dask | speed-up | peak worker memory (numpy / exprjit) |")
        print("|---|---:|---:|---:|---:|")
        for label, ex, numpy_graph in ROWS:
            # One untimed run: kernels compile, imports happen.
            wait(client.persist(fresh(exprjit.dask.evaluate(ex, env))))
            t_np, m_np = timed(client, lambda: numpy_graph(a, b, c, u), inputs, args.runs, sampler, f"numpy {label}")
            t_xj, m_xj = timed(client, lambda: exprjit.dask.evaluate(ex, env), inputs, args.runs, sampler, f"exprjit {label}")
            print(f"| `{label}` | {t_np * 1e3:.0f} ms | {t_xj * 1e3:.0f} ms | {t_np / t_xj:.2f}x | "
                  f"{m_np / 2**20:.0f} MiB / {m_xj / 2**20:.0f} MiB |", flush=True)
        print()
        print("exprjit threads per worker:", sorted(set(client.run(exprjit.get_num_threads).values())))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
