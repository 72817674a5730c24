"""Take exprjit past one machine with dask: exprjit is the per-chunk kernel
of a ``dask.array`` computation on a ``dask.distributed`` cluster.

Two workloads, each checked against numpy:

* an elementwise expression over three arrays (``map_blocks`` with
  ``meta=``, so dask never calls the function just to learn its output);
* steps of 2-d diffusion on a periodic grid, a 5-point stencil written
  with ``roll`` (``map_overlap`` with ``boundary="periodic"``: each chunk
  arrives with a one-cell halo from its neighbours, or from the far side
  of the grid, so that ``roll`` inside the chunk finds the right
  neighbours for every cell but the halo, which dask trims).

Each dask worker thread is already a unit of parallelism, so every worker
runs exprjit on one thread (a worker plugin sets it; see the README for
running the same code on a real cluster).

    python examples/dask_scale_out.py            # 2 workers, 4000 x 4000
    python examples/dask_scale_out.py --quick    # small sizes, for tests
"""

from __future__ import annotations

import argparse
import time

import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster, WorkerPlugin

import exprjit

ELEMENTWISE = "where(a > b, a * b + c, sqrt(abs(a - c)) / (1 + b * b))"
# One explicit Euler step of du/dt = D * laplacian(u) on a unit grid.
DIFFUSION = "u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)"


class OneExprjitThread(WorkerPlugin):
    """Runs exprjit's kernels on one thread in every worker, present or
    future (dask's worker threads supply the parallelism)."""

    name = "exprjit-one-thread"

    def setup(self, worker):
        import exprjit

        exprjit.set_num_threads(1)


def elementwise_block(a, b, c):
    """The per-chunk kernel: numpy chunks in, a numpy chunk out."""
    return exprjit.evaluate(ELEMENTWISE, local_dict={"a": a, "b": b, "c": c})


def diffusion_block(u, D, dt):
    """One step on a chunk that carries a one-cell halo on every side, in
    one fused pass; the halo cells come out wrong (``roll`` wraps around
    the chunk) and dask trims them."""
    return exprjit.evaluate(DIFFUSION, local_dict={"u": u, "D": D, "dt": dt})


def diffusion_numpy(u, D, dt):
    """The reference: the same step with np.roll over the whole grid, in
    the same operation order (so the comparison is exact)."""
    return u + D * dt * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u)


def run(client: Client, size: int, chunk: int, steps: int) -> None:
    print(f"workers: {len(client.scheduler_info()['workers'])}, "
          f"exprjit threads per worker: {sorted(set(client.run(exprjit.get_num_threads).values()))}")

    # Elementwise: the arrays are made on the workers, never on the client.
    rs = da.random.RandomState(42)
    a, b, c = (rs.standard_normal((size, size), chunks=(chunk, chunk)) for _ in range(3))
    r = da.map_blocks(elementwise_block, a, b, c, meta=np.array((), dtype=np.float64))
    t = time.perf_counter()
    got = r.compute()
    print(f"elementwise {size}x{size}: {time.perf_counter() - t:.2f} s on the cluster")
    an, bn, cn = da.compute(a, b, c)
    want = np.where(an > bn, an * bn + cn, np.sqrt(np.abs(an - cn)) / (1 + bn * bn))
    np.testing.assert_array_equal(got, want)
    print("elementwise: equal to numpy")

    # Diffusion: a hot square in a cold periodic grid.
    D, dt = 1.0, 0.2
    u0 = np.zeros((size, size))
    u0[size // 4 : size // 2, size // 3 : size // 2] = 1.0
    u = da.from_array(u0, chunks=(chunk, chunk))
    t = time.perf_counter()
    for step in range(steps):
        u = u.map_overlap(
            diffusion_block, depth=1, boundary="periodic",
            D=D, dt=dt, meta=np.array((), dtype=np.float64),
        )
        if step % 5 == 4:
            u = u.persist()  # keep the task graph short
    got = u.compute()
    print(f"diffusion {size}x{size}, {steps} steps: {time.perf_counter() - t:.2f} s on the cluster")
    want = u0
    for _ in range(steps):
        want = diffusion_numpy(want, D, dt)
    np.testing.assert_array_equal(got, want)
    print(f"diffusion: equal to numpy (heat kept: {got.sum():.6f} of {u0.sum():.6f})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--size", type=int, default=4000)
    p.add_argument("--chunk", type=int, default=1000)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    p.add_argument("--scheduler", help="address of a running scheduler instead of a LocalCluster")
    args = p.parse_args()
    if args.quick:
        args.size, args.chunk, args.steps = 240, 70, 6

    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        client.register_plugin(OneExprjitThread())
        run(client, args.size, args.chunk, args.steps)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
