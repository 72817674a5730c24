"""Forked children evaluate after the parent used the thread pool:
`os.fork()`, and `multiprocessing` Pool and Process with the 'fork' start
method (Linux's default before Python 3.14). Each scenario runs in its own
interpreter with a timeout, so that a child that hangs (a pool inherited
without its worker threads) fails the test instead of blocking the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

#: Seconds a scenario may take (each evaluation takes well under one).
TIMEOUT = 20

PRELUDE = """
import os, sys, threading, time
import numpy as np
import exprjit

exprjit.set_num_threads(2)
N = 4_000_000
EX = "sin(a) * b + sqrt(a * a + 1.0) - b / (a + 2.0)"

def data():
    a = np.linspace(0.0, 10.0, N)
    return a, a[::-1].copy()

def want():
    a, b = data()
    return np.sin(a) * b + np.sqrt(a * a + 1.0) - b / (a + 2.0)

def evaluate():
    a, b = data()
    return exprjit.evaluate(EX, {"a": a, "b": b}, {})

def right(r):
    return bool(np.allclose(r, want(), rtol=1e-13, atol=1e-13))

def child_work(_=None):
    return right(evaluate()) and right(exprjit.NumExpr(EX).run(*data()))

# The parent uses the pool first: large, multi-threaded.
assert right(evaluate())
"""


def run(body):
    """Runs PRELUDE + `body` in a fresh interpreter, in a session of its
    own so that hung grandchildren (forked children) are killed with it;
    it must print `ok`."""
    code = PRELUDE + textwrap.dedent(body)
    p = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        pytest.fail(f"hung for {TIMEOUT} s (a forked child waiting for threads it does not have?)\n{err}")
    assert p.returncode == 0 and out.split()[-1:] == ["ok"], (p.returncode, out, err)


def test_os_fork_child_evaluates():
    run(
        """
        pid = os.fork()
        if pid == 0:
            os._exit(0 if child_work() else 1)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        assert right(evaluate())  # the parent's pool still works
        print("ok")
        """
    )


def test_multiprocessing_pool_with_fork():
    run(
        """
        import multiprocessing as mp
        with mp.get_context("fork").Pool(2) as pool:
            assert all(pool.map(child_work, range(4)))
        print("ok")
        """
    )


def test_multiprocessing_process_with_fork():
    run(
        """
        import multiprocessing as mp
        ctx = mp.get_context("fork")
        p = ctx.Process(target=lambda: sys.exit(0 if child_work() else 1))
        p.start()
        p.join()
        assert p.exitcode == 0, p.exitcode
        print("ok")
        """
    )


def test_fork_while_another_thread_evaluates():
    """A thread of the parent is inside a kernel (GIL released) when the
    main thread forks: the child, where that thread does not exist, still
    evaluates."""
    run(
        """
        import warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
        stop = threading.Event()
        def busy():
            while not stop.is_set():
                evaluate()
        t = threading.Thread(target=busy)
        t.start()
        time.sleep(0.3)
        pids = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                os._exit(0 if child_work() else 1)
            pids.append(pid)
            time.sleep(0.05)
        stop.set()
        t.join()
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        print("ok")
        """
    )
