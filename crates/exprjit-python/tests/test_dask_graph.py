"""``exprjit.dask``: expressions as dask graphs, computed on a two-process
``LocalCluster``. Each result is compared with ``exprjit.evaluate`` on the
whole (numpy) arrays, exactly where the graph must not change the
arithmetic (elementwise, rolls, integer and bool reductions, min/max) and
to a few ULP for float sums (which depend on the chunking)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import exprjit

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
xd = pytest.importorskip("exprjit.dask")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(19)
    return {
        "f": rng.standard_normal((23, 31)),
        "g": rng.standard_normal((23, 31)).astype(np.float32),
        "i": rng.integers(-1000, 1000, (23, 31)).astype(np.int32),
        "k": rng.integers(-(2**40), 2**40, (23, 31)),
        "row": rng.standard_normal(31),
        "col": rng.standard_normal((23, 1)),
        "m": rng.standard_normal((23, 31)) > 0.3,
    }


def lazy(data, chunks=(5, 7), **other):
    """Dask arrays of ``data`` (2-d ones chunked as ``chunks``)."""
    out = {}
    for n, v in data.items():
        c = other.get(n, chunks if v.ndim == 2 else -1)
        out[n] = da.from_array(v, chunks=c)
    return out


def layers(r, prefix):
    return [k for k in r.dask.layers if str(k).startswith(prefix)]


def check_all(client, cases):
    """Builds each ``(ex, arrays, numpy_values, exact)``, computes them all
    on the cluster in one go and compares each with exprjit on the numpy
    values; returns the dask arrays."""
    built, wants = [], []
    for ex, arrays, values, _ in cases:
        r = xd.evaluate(ex, arrays)
        want = np.asarray(exprjit.evaluate(ex, values))
        assert isinstance(r, da.Array), ex
        assert (r.dtype, r.shape) == (want.dtype, want.shape), ex
        assert r._meta.dtype == want.dtype and r._meta.ndim == want.ndim, ex
        built.append(r)
        wants.append(want)
    gots = client.gather(client.compute(built))
    for (ex, _, _, exact), got, want in zip(cases, gots, wants):
        assert (got.dtype, got.shape) == (want.dtype, want.shape), ex
        if exact:
            np.testing.assert_array_equal(got, want, err_msg=ex)
        else:
            rtol = 1e-12 if want.dtype == np.float64 else 1e-5
            np.testing.assert_allclose(got, want, rtol=rtol, err_msg=ex)
    return built


def check(client, ex, arrays, values, exact=True):
    return check_all(client, [(ex, arrays, values, exact)])[0]


def test_elementwise_one_task_per_chunk(client, data):
    ex = "where(f > 0, f * g + i, sqrt(abs(f)) / (1 + k))"
    arrays = lazy(data, g=(7, 5))  # different chunks: unified as dask does
    r = check(client, ex, arrays, data)
    assert len(layers(r, "exprjit-")) == 1
    blocks = [k for k in r.__dask_graph__() if k[0] == r.name]
    assert len(blocks) == r.npartitions
    f, g, i, k = data["f"], data["g"], data["i"], data["k"]
    np.testing.assert_array_equal(exprjit.evaluate(ex, data), np.where(f > 0, f * g + i, np.sqrt(np.abs(f)) / (1 + k)))


def test_broadcasting_numpy_arrays_and_scalars(client, data):
    arrays = lazy(data)
    # A numpy array and a Python scalar mixed with dask arrays.
    env = {"f": arrays["f"], "row": data["row"], "col": arrays["col"], "s": 2.5, "n": 3}
    r = check(client, "f * row - col / s + n", env, {**data, "s": 2.5, "n": 3})
    assert r.shape == (23, 31)
    # Names from the caller's frame, as exprjit.evaluate finds them.
    f, row = arrays["f"], arrays["row"]
    np.testing.assert_array_equal(xd.evaluate("f + row").compute(), data["f"] + data["row"])


def test_mixed_dtypes(client, data):
    arrays = lazy(data)
    cases = [
        ("i * g", np.float64, True),  # NEP 50
        ("g * 2.0 + 1", np.float32, True),  # weak literals
        ("i + k", np.int64, True),
        ("m & (i > 0)", np.bool_, True),
        ("sum(m)", np.int64, True),
        ("mean(i, axis=1)", np.float64, False),
        ("mean(g)", np.float32, False),
    ]
    built = check_all(client, [(ex, arrays, data, exact) for ex, _, exact in cases])
    assert [r.dtype for r in built] == [np.dtype(d) for _, d, _ in cases]


def test_rolls_one_halo_exchange(client, data):
    ex = "f + 0.1*(roll(f,1,0) + roll(f,-1,0) + roll(f,2,1) + roll(f,-1,1) - 4*f) + roll(i,-2,1)"
    r = check(client, ex, lazy(data), data)
    f = data["f"]
    want = f + 0.1 * (np.roll(f, 1, 0) + np.roll(f, -1, 0) + np.roll(f, 2, 1) + np.roll(f, -1, 1) - 4 * f)
    np.testing.assert_array_equal(exprjit.evaluate(ex, data), want + np.roll(data["i"], -2, 1))
    # One overlap per array variable and one kernel layer, not one per roll.
    assert len(layers(r, "overlap-")) == 2
    assert len(layers(r, "exprjit-")) == 1


def test_roll_shift_larger_than_a_chunk(client, data):
    arrays = lazy(data, chunks=(3, 4))
    built = check_all(client, [
        # Shifts of 8 and -13 against chunks of 3 and 4: the axes are
        # rechunked (neighbouring chunks merged) until a chunk holds the halo.
        ("roll(f, 8, 0) - roll(f, -13, 1)", arrays, data, True),
        # Larger than half the axis: taken modulo the length (30 of 23 is 7).
        ("roll(f, 30, 0) * roll(roll(f, 40, 1), -3, 0)", arrays, data, True),
        # A 1-d variable broadcast against a rolled 2-d one.
        ("roll(row, 9, 0) + roll(f, 1, 1)", arrays, data, True),
    ])
    assert min(built[0].chunks[0]) >= 8 and min(built[0].chunks[1]) >= 13


def test_integer_reductions_along_each_axis_and_in_full(client, data):
    arrays = lazy(data)
    ops = ("sum", "prod", "min", "max")
    exs = [
        ex
        for op in ops
        for ex in (f"{op}(i, axis=0)", f"{op}(i, axis=1)", f"{op}(k, axis=-1, keepdims=True)", f"{op}(i)")
    ]
    built = check_all(client, [(ex, arrays, data, True) for ex in exs])
    assert built[2].shape == (23, 1) and built[3].shape == () and built[3].ndim == 0
    # Chunking-independent: other chunks, another tree, the same bits.
    other = lazy(data, chunks=(4, 9))
    pairs = []
    for op in ops:
        for ex in (f"{op}(i * 3 - k, axis=0)", f"{op}(i)"):
            pairs += [xd.evaluate(ex, arrays, split_every=2), xd.evaluate(ex, other, split_every=8)]
    got = client.gather(client.compute(pairs))
    for a, b in zip(got[::2], got[1::2]):
        np.testing.assert_array_equal(a, b)


def test_float_and_bool_reductions(client, data):
    arrays = lazy(data)
    inexact = ("sum(f, axis=0)", "mean(g, axis=1)", "sqrt(sum(f*f))", "f - mean(f)",
               "sum(f - mean(f, axis=0), axis=1)", "mean(f, axis=0, keepdims=True) * col")
    exact = ("max(abs(f), axis=1)", "min(g)", "f / max(abs(f))", "any(m, axis=0) | all(f < 9)",
             "sum(m, axis=1)", "sum(roll(i, 3, 0), axis=0)", "roll(i - min(i, axis=0), 5, 1)")
    check_all(client, [(ex, arrays, data, False) for ex in inexact] + [(ex, arrays, data, True) for ex in exact])
    r = xd.evaluate("sqrt(sum(f*f))", arrays)
    assert r.shape == () and isinstance(r, da.Array)
    # The argument is fused into the chunk step: one kernel per block.
    kernels = [k for k in r.dask.layers if re.fullmatch(r"exprjit-(partial-)?[0-9a-f]+", k)]
    assert len(layers(r, "exprjit-partial")) == 1 and len(kernels) == 2


@pytest.mark.parametrize(
    "ex, cls, text",
    [
        ("f + row[:", exprjit.ExprjitSyntaxError, "^"),
        ("f + nope", exprjit.UnknownNameError, "unknown variable 'nope'"),
        ("f + col2", exprjit.UnknownNameError, "^^^^"),
        ("f + i[0]", exprjit.ExprjitError, "^"),
        ("f + short", exprjit.ExprjitValueError, "do not broadcast"),
        ("sum(f, axis=2)", exprjit.ExprjitError, "axis"),
        ("mean(empty)", exprjit.ExprjitValueError, "^"),
        ("m + m", exprjit.ExprjitTypeError, "^"),
    ],
)
def test_errors_at_graph_build_time(data, ex, cls, text):
    arrays = lazy(data)
    arrays["short"] = da.ones(30, chunks=10)
    arrays["empty"] = da.ones((0,), chunks=1)
    with pytest.raises(cls) as info:
        xd.evaluate(ex, arrays)
    assert text in str(info.value)
    assert isinstance(xd.validate(ex, arrays), cls)


def test_validate_accepts_what_evaluate_builds(data):
    assert xd.validate("sum(f * row, axis=1) + i[:, 0]", lazy(data)) is not None
    assert xd.validate("sum(f * row, axis=1) + 1", lazy(data)) is None


def test_kernels_cached_per_worker_and_threads_capped(client, data):
    arrays = lazy(data, chunks=(3, 4))

    def run(k):
        # Another scalar each time: new task keys (dask would otherwise
        # reuse a result still in memory), the same kernels.
        r = xd.evaluate("f * s - sum(i * s, axis=0)", {**arrays, "s": 3.5 + k})
        client.compute(r).result()

    def counts():
        return client.run(lambda: tuple(exprjit.cache_info()[:2]) + (exprjit.cache_info().multipass_runs,))

    # Twice first: exprjit compiles a small call's kernel when it meets
    # it again.
    run(0)
    run(1)
    before = counts()
    run(2)
    after = counts()
    # No new compile in any worker: each process kept its kernels; and
    # the third run did look them up.
    assert all(after[w][1] == before[w][1] for w in after)
    assert sum(after[w][0] for w in after) > sum(before[w][0] for w in before)
    # Two one-thread workers on this host: cores // 2 exprjit threads in
    # each worker that ran a kernel (the cap is set by the first one).
    cores = client.run(exprjit.detect_number_of_cores)
    threads = client.run(exprjit.get_num_threads)
    ran = [w for w in after if sum(after[w]) > 0]
    assert ran
    for w in ran:
        assert threads[w] == max(1, cores[w] // 2)


def test_structure_from_exprjits_checker():
    s = exprjit._exprjit.structure
    st = s("a * 2 - mean(roll(a, 1, 0), axis=1, keepdims=True) + sum(b) + sum(b)",
           {"a": ("float32", (6, 8)), "b": ("int32", (8,))})
    # float32 with an int64 0-d value (the sum) is float64 (NEP 50).
    assert (st["dtype"], tuple(st["shape"]), st["variables"]) == ("float64", (6, 8), ["a", "b"])
    # mean of float32 stays float32; sum of int32 is int64.
    mean, total = st["reductions"]
    assert (mean["op"], mean["axis"], mean["keepdims"], mean["dtype"]) == ("mean", 1, True, "float32")
    assert tuple(mean["shape"]) == (6, 1) and tuple(mean["input_shape"]) == (6, 8)
    lo, hi = mean["input"]
    assert "a * 2 - mean(roll(a, 1, 0), axis=1, keepdims=True)"[lo:hi] == "roll(a, 1, 0)"
    assert (total["op"], total["axis"], total["dtype"], len(total["spans"])) == ("sum", None, "int64", 2)
    assert not st["rolled"] and list(st["depth"]) == [0, 0]  # the roll is inside the reduction
    st = s("roll(u, 1, 0) + roll(u, -7, 1) + roll(roll(u, 2, 0), 3, 0)", {"u": ("float64", (10, 12))})
    assert st["rolled"] and list(st["depth"]) == [5, 5]
    assert st["block_text"] == "roll(u, (1), 0) + roll(u, (5), 1) + roll(roll(u, (2), 0), (3), 0)"
    with pytest.raises(exprjit.ExprjitValueError, match=r"(?s)\^.*do not broadcast"):
        s("a + b", {"a": ("float64", (3,)), "b": ("float64", (4,))})
    with pytest.raises(exprjit.ExprjitError, match="axis"):
        s("sum(a, axis=1)", {"a": ("float64", (3,))})
