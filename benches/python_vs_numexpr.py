"""numpy, numexpr, numba (when installed) and exprjit side by side, in one
process, on the workloads and sizes of ``benches/fused_vs_multipass.rs``
(plus the diffusion step of ``examples/diffusion.rs``), writing a
markdown table.

    python benches/python_vs_numexpr.py            # all sizes, ~10 minutes on 2 cores
    python benches/python_vs_numexpr.py --quick    # 1e3, 1e5, 1e7: ~2 minutes

Build exprjit in release mode for it (``pip install ./crates/exprjit-python``
does). Each cell is the median time of one call, over several samples that
each repeat the call long enough to be measured; every engine's result is
checked against numpy's first. numexpr, numba and exprjit use all cores,
numpy one (it has no threads for these operations). Engines are measured
one after the other (numexpr last, see ``main``). Numbers from a shared
or busy machine are noisy: cells whose samples spread by more than 25% are
marked with ``~``.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import platform
import statistics
import sys
import time

import numpy as np

import exprjit

try:
    import numexpr
except ImportError:  # the table then lacks its column
    numexpr = None
try:
    import numba
except ImportError:
    numba = None

# name, expression, dtype: the Rust benchmark's WORKLOADS.
WORKLOADS = [
    ("1 a*b+c", "a*b+c", np.float64),
    ("2 polynomial", "2*a + 3*b*c - a/(b+1.5) + c*c", np.float64),
    ("3 trig", "sin(a)**2 + cos(b)*exp(-c)", np.float64),
    ("4 log/sqrt/tanh", "log1p(abs(a)) + sqrt(b*b + c*c) + tanh(a*b)", np.float64),
    ("5 a*b+c f32", "a*b+c", np.float32),
]
DIFFUSION = "u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)"


def numpy_impl(name):
    return {
        "1 a*b+c": lambda a, b, c: a * b + c,
        "2 polynomial": lambda a, b, c: 2 * a + 3 * b * c - a / (b + 1.5) + c * c,
        "3 trig": lambda a, b, c: np.sin(a) ** 2 + np.cos(b) * np.exp(-c),
        "4 log/sqrt/tanh": lambda a, b, c: np.log1p(np.abs(a)) + np.sqrt(b * b + c * c) + np.tanh(a * b),
        "5 a*b+c f32": lambda a, b, c: a * b + c,
    }[name]


def numba_impls():
    """Parallel loops, one per workload (compiled on first call)."""
    from numba import njit, prange

    @njit(parallel=True)
    def abc(a, b, c):
        o = np.empty_like(a)
        for i in prange(a.size):
            o[i] = a[i] * b[i] + c[i]
        return o

    @njit(parallel=True)
    def poly(a, b, c):
        o = np.empty_like(a)
        for i in prange(a.size):
            o[i] = 2 * a[i] + 3 * b[i] * c[i] - a[i] / (b[i] + 1.5) + c[i] * c[i]
        return o

    @njit(parallel=True)
    def trig(a, b, c):
        o = np.empty_like(a)
        for i in prange(a.size):
            o[i] = np.sin(a[i]) ** 2 + np.cos(b[i]) * np.exp(-c[i])
        return o

    @njit(parallel=True)
    def logs(a, b, c):
        o = np.empty_like(a)
        for i in prange(a.size):
            o[i] = np.log1p(abs(a[i])) + np.sqrt(b[i] * b[i] + c[i] * c[i]) + np.tanh(a[i] * b[i])
        return o

    @njit(parallel=True)
    def diffusion(u, D, dt):
        n, m = u.shape
        o = np.empty_like(u)
        for i in prange(n):
            for j in range(m):
                o[i, j] = u[i, j] + D * dt * (
                    u[(i - 1) % n, j] + u[(i + 1) % n, j] + u[i, (j - 1) % m] + u[i, (j + 1) % m] - 4 * u[i, j]
                )
        return o

    return {
        "1 a*b+c": abc,
        "2 polynomial": poly,
        "3 trig": trig,
        "4 log/sqrt/tanh": logs,
        "5 a*b+c f32": abc,
        "6 diffusion step": diffusion,
    }


def measure(f, samples, min_sample):
    """Median and spread of per-call times: each sample repeats ``f`` until
    it lasts ``min_sample`` seconds, after warming up for as long (at least
    three calls: compiling is not measured here, the Rust benchmark
    measures it; and thread pools settle)."""
    warm, calls = time.perf_counter(), 0
    while calls < 3 or time.perf_counter() - warm < min_sample:
        f()
        calls += 1
    t = time.perf_counter()
    f()
    one = max(time.perf_counter() - t, 1e-7)
    reps = max(1, int(min_sample / one + 0.999))
    per_call = []
    for _ in range(samples):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        per_call.append((time.perf_counter() - t) / reps)
    med = statistics.median(per_call)
    return med, (max(per_call) - min(per_call)) / med


def fmt_time(s):
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def machine_line():
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass

    def cache(i):
        try:
            return pathlib.Path(f"/sys/devices/system/cpu/cpu0/cache/index{i}/size").read_text().strip()
        except OSError:
            return "?"

    versions = [f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    if numexpr:
        versions.append(f"numexpr {numexpr.__version__}")
    if numba:
        versions.append(f"numba {numba.__version__}")
    versions.append(f"exprjit {exprjit.__version__}")
    return (
        f"{cpu}, {exprjit.detect_number_of_cores()} cores, L1d {cache(0)}, L2 {cache(2)}, L3 {cache(3)}; "
        f"{platform.system()} {platform.release()}; " + ", ".join(versions)
        + f"; {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
    )


def _job(name, ex, dt, n, rng, nb):
    """The engines' implementations of one workload at one size, over
    inputs drawn from ``rng`` (uniform in [0, 1) as in the Rust benchmark);
    and the element count (the diffusion grid is square)."""
    if name.startswith("6"):
        side = int(round(n**0.5))
        u = rng.random((side, side))
        env = {"u": u, "D": 1.0, "dt": 0.2}

        def rolled():
            return {"n": np.roll(u, 1, 0), "s": np.roll(u, -1, 0), "w": np.roll(u, 1, 1), "e": np.roll(u, -1, 1)}

        return {
            "numpy": lambda: u + 1.0 * 0.2 * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u),
            # numexpr has no roll: numpy makes the shifted copies.
            "numexpr": lambda: numexpr.evaluate("u + D*dt*(n + s + w + e - 4*u)", local_dict={**rolled(), **env}),
            "numba": lambda: nb["6 diffusion step"](u, 1.0, 0.2),
            "exprjit": lambda: exprjit.evaluate(ex, local_dict=env),
        }, side * side
    a, b, c = (rng.random(n).astype(dt) for _ in range(3))
    env = {"a": a, "b": b, "c": c}
    f_np = numpy_impl(name)
    return {
        "numpy": lambda: f_np(a, b, c),
        "numexpr": lambda: numexpr.evaluate(ex, local_dict=env),
        "numba": lambda: nb[name](a, b, c),
        "exprjit": lambda: exprjit.evaluate(ex, local_dict=env),
    }, n


def _load():
    """The 1-minute load average: other work on the machine skews timings."""
    try:
        return pathlib.Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="sizes 1e3, 1e5, 1e7 and fewer samples")
    p.add_argument("--out", default="target/exprjit-bench/python_vs_numexpr.md", help="where to write the table")
    p.add_argument("--threads", type=int, default=exprjit.detect_number_of_cores())
    args = p.parse_args()

    if args.quick:
        sizes, samples, min_sample = [1_000, 100_000, 10_000_000], 5, 0.05
    else:
        sizes, samples, min_sample = [10, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 30_000_000], 7, 0.1

    exprjit.set_num_threads(args.threads)
    if numexpr:
        numexpr.set_num_threads(args.threads)
    nb = numba_impls() if numba else {}
    if numba:
        numba.set_num_threads(args.threads)

    load_before = _load()
    engines = ["numpy"] + (["numexpr"] if numexpr else []) + (["numba"] if numba else []) + ["exprjit"]
    jobs = [(name, ex, dt, n) for name, ex, dt in WORKLOADS for n in sizes]
    jobs += [("6 diffusion step", DIFFUSION, np.float64, n) for n in sizes if n >= 100]
    # Engine by engine, so that no library's idle worker threads compete
    # with another's; the inputs of a job are the same for every engine.
    # numexpr goes last: once its thread pool has run, numba's parallel
    # loops stall for ~8 ms per call on the machine of the README's run (a
    # numexpr/numba interaction; exprjit's timings do not change).
    cells = {}  # (job index, engine) -> (median, spread)
    for eng in sorted(engines, key=lambda e: e == "numexpr"):
        for k, (name, ex, dt, n) in enumerate(jobs):
            impl, n_real = _job(name, ex, dt, n, np.random.default_rng(k), nb)
            got, want = impl[eng](), impl["numpy"]()
            tol = 1e-5 if dt == np.float32 else 1e-12
            if not np.allclose(got, want, rtol=tol, atol=tol):
                sys.exit(f"{eng} disagrees with numpy on {name} at n={n_real}")
            del got, want
            cells[k, eng] = measure(impl[eng], samples, min_sample)
            print(f"{eng:8s} {name:18s} n={n_real:>10,d}  {fmt_time(cells[k, eng][0])}", file=sys.stderr)
    rows = []
    for k, (name, ex, dt, n) in enumerate(jobs):
        if name.startswith("6"):
            n = int(round(n**0.5)) ** 2
        rows.append((name, n, {e: cells[k, e] for e in engines}))

    out = []
    out.append(
        f"Machine: {machine_line()}; threads: {args.threads} for numexpr, numba and exprjit, 1 for numpy; "
        f"load average {load_before} before the run, {_load()} after."
    )
    out.append("")
    out.append("Median time per call (speed-up over numpy in parentheses; `~`: samples spread > 25%).")
    out.append("")
    out.append("| workload | n | " + " | ".join(engines) + " |")
    out.append("|---|---:|" + "---:|" * len(engines))
    for name, n, cells in rows:
        base = cells["numpy"][0]
        parts = []
        for e in engines:
            med, spread = cells[e]
            mark = "~" if spread > 0.25 else ""
            ratio = "" if e == "numpy" else f" ({base / med:.1f}x)"
            parts.append(f"{mark}{fmt_time(med)}{ratio}")
        out.append(f"| {name} | {n:,} | " + " | ".join(parts) + " |")
    text = "\n".join(out) + "\n"
    print(text)
    path = pathlib.Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
