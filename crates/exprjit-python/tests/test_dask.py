"""exprjit as dask's per-chunk kernel: on dask's local schedulers (which call
functions on 0-d and empty arrays to learn their output), on a small
``LocalCluster``, and the repository's ``examples/dask_scale_out.py``."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import numpy as np
import pytest

import exprjit

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

EXAMPLE = pathlib.Path(__file__).resolve().parents[3] / "examples" / "dask_scale_out.py"


def kernel(a, b):
    return exprjit.evaluate("a * b + sqrt(abs(a))", local_dict={"a": a, "b": b})


def test_map_blocks_infers_meta_on_0d_and_empty_inputs():
    x = da.from_array(np.arange(100.0).reshape(10, 10), chunks=(3, 4))
    y = da.from_array(np.linspace(-1, 1, 100).reshape(10, 10), chunks=(3, 4))
    r = da.map_blocks(kernel, x, y)  # no meta: dask probes with tiny inputs
    assert r.dtype == np.float64
    xn, yn = x.compute(), y.compute()
    np.testing.assert_array_equal(r.compute(scheduler="threads"), xn * yn + np.sqrt(np.abs(xn)))
    # What dask's probing hands over: 0-d arrays and empty arrays.
    assert kernel(np.array(2.0), np.array(3.0)).shape == ()
    assert kernel(np.empty((0, 0)), np.empty((0, 0))).shape == (0, 0)


def test_local_cluster_map_blocks_and_overlap():
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        x = da.random.RandomState(0).standard_normal((300, 200), chunks=(100, 50))
        r = da.map_blocks(kernel, x, x + 1, meta=np.array((), dtype=np.float64))
        xn = x.compute()
        np.testing.assert_array_equal(client.compute(r).result(), xn * (xn + 1) + np.sqrt(np.abs(xn)))

        def smooth(u):
            c = u[1:-1, 1:-1]
            return exprjit.evaluate(
                "(n + s + e + w + c) / 5",
                {"c": c, "n": u[:-2, 1:-1], "s": u[2:, 1:-1], "w": u[1:-1, :-2], "e": u[1:-1, 2:]},
            )

        got = x.map_overlap(smooth, depth=1, boundary="periodic", trim=False, meta=np.array((), dtype=np.float64))
        rolls = [np.roll(xn, 1, 0), np.roll(xn, -1, 0), np.roll(xn, -1, 1), np.roll(xn, 1, 1), xn]
        want = (rolls[0] + rolls[1] + rolls[2] + rolls[3] + rolls[4]) / 5
        np.testing.assert_array_equal(got.compute(), want)

        # A compiled expression travels to the workers by pickle.
        ne = exprjit.NumExpr("x * 2 - 1", [("x", "float64")])
        np.testing.assert_array_equal(
            da.map_blocks(ne.run, x, meta=np.array((), dtype=np.float64)).compute(), xn * 2 - 1
        )


@pytest.mark.skipif(not EXAMPLE.exists(), reason="not run from the repository")
def test_example_runs():
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--quick"], capture_output=True, text=True, timeout=240
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "elementwise: equal to numpy" in out.stdout
    assert "diffusion: equal to numpy" in out.stdout
    assert "exprjit threads per worker: [1]" in out.stdout
