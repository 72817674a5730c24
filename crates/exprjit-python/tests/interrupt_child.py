"""The child process of test_interrupt.py: long evaluations for the parent
to send SIGINT to.

    python interrupt_child.py SCENARIO SECONDS

Calibrates an array size so that one evaluation takes about SECONDS, then
runs the scenario. Before each call the parent is to interrupt it prints
``ready``; after it, ``<outcome> <time.monotonic()>`` (the clock is
system-wide, so the parent can subtract the time it sent the signal), and
``correct True`` once a fresh evaluation of a small array gave numpy's
result (the module still works). Run by the tests only.
"""

from __future__ import annotations

import signal
import sys
import threading
import time

import numpy as np

import exprjit

EX = "+".join(f"sin(a*{k}.5)*exp(-a/{k}.0)" for k in range(1, 11))


def reference(a):
    return sum(np.sin(a * (k + 0.5)) * np.exp(-a / float(k)) for k in range(1, 11))


def say(*words):
    print(*words, flush=True)


def outcome(name):
    say(name, time.monotonic())


def still_correct():
    """A fresh evaluation gives numpy's result within the libm bound."""
    a = np.linspace(0.1, 1.0, 100_001)
    got = exprjit.evaluate(EX, {"a": a})
    say("correct", bool(np.allclose(got, reference(a), rtol=1e-12, atol=1e-12)))


def calibrate(seconds):
    """An array for which one evaluation of EX takes about `seconds`."""
    probe = np.linspace(0.1, 1.0, 200_000)
    exprjit.evaluate(EX, {"a": probe})  # compile
    start = time.perf_counter()
    exprjit.evaluate(EX, {"a": probe})
    per_element = (time.perf_counter() - start) / probe.size
    n = int(min(max(seconds / per_element, 1e6), 4e7))
    return np.linspace(0.1, 1.0, n)


def expect_interrupt(call, exception=KeyboardInterrupt):
    say("ready")
    try:
        call()
        outcome("finished")
    except exception:
        outcome("caught")
    still_correct()


def modes(a):
    """Every way a call reaches a kernel: a new result, `out`, in place,
    `NumExpr`."""
    out = np.empty_like(a)
    b = a.copy()
    compiled = exprjit.NumExpr(EX)
    exb = EX.replace("a", "b")
    # Warm every path so that no compilation runs while interrupted.
    small = a[:1000].copy()
    exprjit.evaluate(EX, {"a": small}, out=np.empty_like(small))
    exprjit.evaluate(exb, {"b": small}, out=small)
    compiled.run(a[:1000])
    expect_interrupt(lambda: exprjit.evaluate(EX, {"a": a}))
    expect_interrupt(lambda: exprjit.evaluate(EX, {"a": a}, out=out))
    expect_interrupt(lambda: exprjit.evaluate(exb, {"b": b}, out=b))
    expect_interrupt(lambda: compiled.run(a))


class Stop(Exception):
    pass


def custom_raise(a):
    """A handler of the user's that raises: its exception comes out."""

    def handler(signum, frame):
        raise Stop

    signal.signal(signal.SIGINT, handler)
    expect_interrupt(lambda: exprjit.evaluate(EX, {"a": a}), Stop)


def completes(a, install):
    """A handler that does not raise, or SIGINT ignored: the evaluation
    ends with the right result."""
    want = exprjit.evaluate(EX, {"a": a})
    calls = []
    install(calls)
    say("ready")
    got = exprjit.evaluate(EX, {"a": a})
    outcome("finished")
    say("handled", len(calls))
    say("correct", bool(np.array_equal(got, want)))


def quiet(a):
    completes(a, lambda calls: signal.signal(signal.SIGINT, lambda s, f: calls.append(s)))


def ignored(a):
    completes(a, lambda calls: signal.signal(signal.SIGINT, signal.SIG_IGN))


def worker(a):
    """Evaluating in another thread: Ctrl-C reaches the main thread at once
    (Python's own handling) and the worker's evaluation finishes right."""
    want = exprjit.evaluate(EX, {"a": a})
    got = []
    done = threading.Event()

    def work():
        got.append(exprjit.evaluate(EX, {"a": a}))
        done.set()

    t = threading.Thread(target=work)
    t.start()
    say("ready")
    try:
        # Not `t.join(timeout)`: Python 3.11 may take a thread whose join
        # was interrupted for finished.
        while not done.is_set():
            time.sleep(0.01)
        outcome("finished")
    except KeyboardInterrupt:
        outcome("caught")
    done.wait()
    t.join()
    say("correct", bool(np.array_equal(got[0], want)))


def both(a):
    """The main thread and two workers evaluate at once: Ctrl-C stops the
    main thread's call. A worker's call sees the same flag if it reaches a
    tile boundary before the main thread clears it (a window of about one
    tile): one writing a new result then starts again, one in place (half
    written) raises KeyboardInterrupt; either way nothing is wrong."""
    want = exprjit.evaluate(EX, {"a": a})
    b = a.copy()
    exb = EX.replace("a", "b")
    small = b[:1000].copy()
    exprjit.evaluate(exb, {"b": small}, out=small)  # compile
    got, in_place = [], []

    def fresh():
        got.append(exprjit.evaluate(EX, {"a": a}))

    def overwrite():
        try:
            exprjit.evaluate(exb, {"b": b}, out=b)
            in_place.append("finished")
        except KeyboardInterrupt:
            in_place.append("interrupted")

    workers = [threading.Thread(target=fresh), threading.Thread(target=overwrite)]
    for t in workers:
        t.start()
    time.sleep(0.05)
    expect_interrupt(lambda: exprjit.evaluate(EX, {"a": a}))
    for t in workers:
        t.join()
    say("worker", bool(np.array_equal(got[0], want)))
    right = in_place[0] == "interrupted" or bool(np.array_equal(b, want))
    say("in_place", in_place[0], right)


SCENARIOS = {
    "modes": modes,
    "custom_raise": custom_raise,
    "quiet": quiet,
    "ignored": ignored,
    "worker": worker,
    "both": both,
}

if __name__ == "__main__":
    scenario, seconds = sys.argv[1], float(sys.argv[2])
    SCENARIOS[scenario](calibrate(seconds))
    say("done")
