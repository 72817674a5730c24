"""Every memory layout numpy can hand over: strided, reversed, transposed,
sliced in several dimensions, broadcast, stride 0, 0-d, scalars, empty,
byte-swapped, misaligned, strides that are not a multiple of the item
size; each dtype; results compared bit for bit with numpy."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DTYPES, NUMERIC, assert_same, numpy_namespace, random_array

import exprjit

N = 1001  # odd: remainder loops


def _layouts(rng, dt):
    """name -> function of a base array of N elements giving the operand."""
    return {
        "contiguous": lambda x: x,
        "strided": lambda x: x[::3],
        "reversed": lambda x: x[::-1],
        "offset": lambda x: x[5:-7],
        "2d-c": lambda x: x[: 33 * 30].reshape(33, 30),
        "2d-f": lambda x: np.asfortranarray(x[: 33 * 30].reshape(33, 30)),
        "2d-transposed": lambda x: x[: 30 * 33].reshape(30, 33).T,
        "2d-sliced": lambda x: x[: 40 * 25].reshape(40, 25)[::2, 1::3],
        "3d-negative": lambda x: x[: 7 * 11 * 13].reshape(7, 11, 13)[::-1, :, ::-2],
        "4d": lambda x: x[: 2 * 3 * 4 * 5].reshape(2, 3, 4, 5).transpose(2, 0, 3, 1),
        "stride-0": lambda x: np.broadcast_to(x[:17], (9, 17)),
        "byteswapped": lambda x: x.astype(x.dtype.newbyteorder()),
        "misaligned": lambda x: _misaligned(x),
        "struct-field": lambda x: _field(x),
        "empty": lambda x: x[:0],
        "empty-2d": lambda x: x[:0].reshape(3, 0),
        "0-d": lambda x: np.array(x[3]),
        "numpy-scalar": lambda x: x[3],
    }


def _misaligned(x):
    buf = np.zeros(x.nbytes + 1, dtype=np.uint8)
    a = np.frombuffer(buf.data, dtype=x.dtype, count=x.size, offset=1)
    a[...] = x
    return a


def _field(x):
    s = np.zeros(x.size, dtype=[("pad", "u1"), ("v", x.dtype)])
    s["v"] = x
    return s["v"]  # stride = itemsize + 1


LAYOUTS = list(_layouts(None, None))
EXPRS = ["a*b + c", "where(a > b, a, c)", "(a - b) * 2 + c", "a == c"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
def test_layout(layout, dt, rng):
    make = _layouts(rng, dt)[layout]
    a = make(random_array(rng, dt, N))
    b = make(random_array(rng, dt, N))
    c = make(random_array(rng, dt, N))
    if dt == np.bool_:
        exprs = ["a & b | c", "where(a, b, c)", "a ^ c", "a == b"]
    else:
        exprs = EXPRS
    for ex in exprs:
        env = {"a": a, "b": b, "c": c}
        with np.errstate(all="ignore"):
            want = np.asarray(eval(ex, numpy_namespace(), env))
        for _ in range(2):
            assert_same(exprjit.evaluate(ex, env), want, what=f"{ex} {layout}")


@pytest.mark.parametrize("dt", NUMERIC, ids=lambda d: np.dtype(d).name)
def test_broadcast(dt, rng):
    a = random_array(rng, dt, 23)
    b = random_array(rng, dt, 19)
    c = random_array(rng, dt, 19 * 23).reshape(19, 23)
    env = {"a": a, "b": b[:, None], "c": c, "d": np.array(a[0]), "k": a[:1]}
    for ex in ["a + b", "a * b - c", "where(c > a, b, d)", "a + k", "c * k - d", "b + d"]:
        with np.errstate(all="ignore"):
            want = np.asarray(eval(ex, numpy_namespace(), env))
        for _ in range(2):
            assert_same(exprjit.evaluate(ex, env), want, what=ex)


def test_large_strided_2d(rng):
    """Enough elements for the thread pool, in a non-contiguous layout."""
    x = rng.standard_normal((1200, 1100))
    a = x[::2, ::-3]
    b = x[1::2, 1::3].T.T
    want = a * b + 1.0
    for _ in range(2):
        assert_same(exprjit.evaluate("a * b + 1.0"), want)


def test_fortran_order_is_kept(rng):
    a = np.asfortranarray(rng.standard_normal((40, 30)))
    b = np.asfortranarray(rng.standard_normal((40, 30)))
    r = exprjit.evaluate("a * b")
    assert r.flags.f_contiguous and not r.flags.c_contiguous
    assert_same(r, a * b)
    r = exprjit.evaluate("a * b", order="C")
    assert r.flags.c_contiguous
    assert_same(r, a * b)
    c = rng.standard_normal((40, 30))
    r = exprjit.evaluate("a * c", order="F")
    assert r.flags.f_contiguous
    assert_same(r, a * c)
    # Mixed layouts: C order, as numpy's 'K' gives for mixed inputs.
    assert exprjit.evaluate("a * c").flags.c_contiguous
    # 1-d operands broadcast against Fortran-ordered 2-d ones.
    v = rng.standard_normal(30)
    assert_same(exprjit.evaluate("a * v"), a * v)
    with pytest.raises(ValueError):
        exprjit.evaluate("a", order="X")


def test_invalid_bool_bytes_read_as_true():
    raw = np.array([0, 1, 2, 255, 0], dtype=np.uint8)
    b = raw.view(np.bool_)
    r = exprjit.evaluate("b & True")
    assert r.tolist() == [False, True, True, True, False]
    assert exprjit.evaluate("where(b, 1, 0)").tolist() == [0, 1, 1, 1, 0]


def test_inputs_are_not_copied_or_changed(rng):
    a = rng.standard_normal(10_000)
    before = a.copy()
    exprjit.evaluate("a * 2 + 1")
    assert_same(a, before)
    # A view's base stays what it was.
    v = a[::2]
    exprjit.evaluate("v * 2")
    assert v.base is a


def test_large_results(rng):
    """Results of 16 MiB and more are written into arrays numpy allocates
    (huge pages): same values, dtypes and layouts as the small path."""
    n = (16 << 20) // 8 + 1001
    a = rng.standard_normal(n)
    b = rng.standard_normal(n)
    for _ in range(2):
        assert_same(exprjit.evaluate("a * b + 1.5"), a * b + 1.5)
    assert_same(exprjit.evaluate("a > b"), a > b)  # bool: 1 byte per element, small path
    i = rng.integers(-100, 100, (16 << 20) // 4 + 7).astype(np.int32)
    assert_same(exprjit.evaluate("i * 3 - 1"), i * 3 - 1)
    f = np.asfortranarray(rng.standard_normal((1100, 2000)))
    r = exprjit.evaluate("f * 2 + 1")
    assert r.flags.f_contiguous
    assert_same(r, f * 2 + 1)
    with pytest.raises(TypeError):
        exprjit.evaluate("a & b")
    u = rng.random((1500, 1500))
    ex = "u + 0.2*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)"
    want = u + 0.2 * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u)
    assert_same(exprjit.evaluate(ex), want)
    m = rng.standard_normal((2100, 1000))
    assert np.allclose(exprjit.evaluate("m - mean(m, axis=0)"), m - m.mean(axis=0))
