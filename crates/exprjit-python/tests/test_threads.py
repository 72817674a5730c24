"""Threads: exprjit's own thread count and its environment variables, many
Python threads evaluating at once, and the GIL released while kernels
run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import assert_same

import exprjit


@pytest.fixture
def restore_threads():
    n = exprjit.get_num_threads()
    yield
    exprjit.set_num_threads(n)


def test_set_and_get(restore_threads):
    before = exprjit.get_num_threads()
    assert exprjit.set_num_threads(1) == before
    assert exprjit.get_num_threads() == 1
    assert exprjit.set_num_threads(3) == 1
    assert exprjit.get_num_threads() == 3
    for bad in (0, -2):
        with pytest.raises(ValueError):
            exprjit.set_num_threads(bad)
    assert exprjit.detect_number_of_cores() >= 1


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_results_do_not_depend_on_threads(threads, restore_threads, rng):
    a = rng.standard_normal(600_000)
    b = rng.standard_normal(600_000)
    exprjit.set_num_threads(threads)
    for _ in range(2):
        assert_same(exprjit.evaluate("a * b - a / (b * b + 1)"), a * b - a / (b * b + 1))


def _threads_in_subprocess(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("EXPRJIT_NUM_THREADS", "NUMEXPR_NUM_THREADS")}
    env.update(env_extra)
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import exprjit; print(exprjit.get_num_threads())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip()), out.stderr


def test_environment_variables():
    cores = exprjit.detect_number_of_cores()
    assert _threads_in_subprocess({})[0] == cores
    assert _threads_in_subprocess({"EXPRJIT_NUM_THREADS": "3"})[0] == 3
    assert _threads_in_subprocess({"NUMEXPR_NUM_THREADS": "5"})[0] == 5
    assert _threads_in_subprocess({"EXPRJIT_NUM_THREADS": "2", "NUMEXPR_NUM_THREADS": "5"})[0] == 2
    n, err = _threads_in_subprocess({"NUMEXPR_NUM_THREADS": "many"})
    assert n == cores and "NUMEXPR_NUM_THREADS" in err


def test_many_python_threads_at_once(rng):
    """Each thread evaluates its own expressions on its own data; results
    must be exact, however the calls interleave (shared kernel cache,
    shared pool)."""
    exprs = ["a * b + c", "where(a > b, a - c, b * 2)", "sqrt(abs(a)) + b", "a * 3.5 - c"]

    def work(seed):
        r = np.random.default_rng(seed)
        n = int(r.integers(1, 300_000))
        env = {k: r.standard_normal(n) for k in "abc"}
        for k in range(30):
            ex = exprs[(seed + k) % len(exprs)]
            got = exprjit.evaluate(ex, env)
            with np.errstate(all="ignore"):
                want = eval(ex, {"where": np.where, "sqrt": np.sqrt, "abs": np.abs}, dict(env))
            np.testing.assert_array_equal(got, want)
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(16)))


def test_numexpr_objects_shared_between_threads(rng):
    ne = exprjit.NumExpr("x * y + 1", [("x", float), ("y", float)])
    x = rng.standard_normal(50_000)

    def work(k):
        y = np.full(50_000, float(k))
        for _ in range(20):
            np.testing.assert_array_equal(ne.run(x, y), x * y + 1)
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(work, range(12)))


def test_gil_is_released_while_a_kernel_runs(restore_threads):
    """While one thread is inside a long evaluate, another thread keeps
    running Python code. With the GIL held it could not run at all until
    the call returned."""
    exprjit.set_num_threads(1)
    a = np.linspace(0.1, 10.0, 4_000_000)
    ex = "sin(a)**2 + cos(a)**2 + log(a) * exp(-a) + sqrt(a) * tanh(a)"
    exprjit.evaluate(ex)  # compile outside the measurement
    t0 = time.perf_counter()
    exprjit.evaluate(ex)
    single = time.perf_counter() - t0

    inside = threading.Event()
    done = threading.Event()

    def evaluate_long():
        inside.set()
        try:
            for _ in range(3):
                exprjit.evaluate(ex, {"a": a})
        finally:
            done.set()

    t = threading.Thread(target=evaluate_long)
    ticks = 0
    t.start()
    inside.wait()
    while not done.is_set():
        ticks += 1
        time.sleep(0)  # a bytecode boundary: hand over the GIL if asked
    t.join()
    # 3 calls of `single` seconds each: the loop above runs thousands of
    # times a millisecond when it has the GIL.
    assert ticks > 1000 * single, (ticks, single)


def test_re_evaluate_is_per_thread():
    a = np.arange(3.0)
    exprjit.evaluate("a + 100")
    seen = {}

    def other():
        try:
            exprjit.re_evaluate({"a": a})
        except RuntimeError as e:
            seen["error"] = e
        exprjit.evaluate("a * 0", {"a": a})

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert "error" in seen
    # This thread's last expression is unchanged by the other's.
    assert_same(exprjit.re_evaluate(), a + 100)
