"""The Python API: how values are bound (dtypes, scalars, 0-d arrays),
``out``, ``order`` and ``casting``, names from the caller's frame,
``re_evaluate``, ``validate``, ``NumExpr`` and ``cache_info``."""

from __future__ import annotations

import gc
import pickle
import weakref

import numpy as np
import pytest
from conftest import assert_same

import exprjit

GLOBAL_G = np.arange(4.0)
e = ValueError("a module-level `e` that is not a number")


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "dt,bound",
    [
        (np.int8, np.int32),
        (np.int16, np.int32),
        (np.uint8, np.int32),
        (np.uint16, np.int32),
        (np.uint32, np.int64),
        (np.float16, np.float32),
    ],
)
def test_narrow_dtypes_are_widened(dt, bound):
    a = np.array([1, 2, 3, 100], dtype=dt)
    r = exprjit.evaluate("a * 2")
    assert r.dtype == bound
    assert_same(r, a.astype(bound) * 2)
    # 0-d and numpy scalars of those dtypes too.
    assert exprjit.evaluate("x + 1", {"x": dt(7)}).dtype == bound
    assert exprjit.evaluate("x + 1", {"x": np.array(7, dtype=dt)}).dtype == bound


@pytest.mark.parametrize(
    "value,fragment",
    [
        (np.array([1], dtype=np.uint64), "uint64"),
        (np.array([1 + 2j]), "complex"),
        (np.array([1.0], dtype=np.longdouble), "float128"),
        (np.array(["x"]), "exprjit evaluates bool, integer and float arrays only"),
        (np.array([object()]), "exprjit evaluates bool, integer and float arrays only"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64"),
        (1 + 2j, "complex"),
        (2**70, "does not fit int64"),
        ("text", "exprjit evaluates bool"),
    ],
)
def test_unsupported_values_raise_type_error(value, fragment):
    with pytest.raises(TypeError) as info:
        exprjit.evaluate("1 + v", {"v": value})
    msg = str(info.value)
    assert fragment in msg
    assert "variable 'v'" in msg
    assert "1 + v\n    ^" in msg  # the caret points at the variable
    assert isinstance(info.value, exprjit.ExprjitTypeError)


def test_python_scalars_take_numpy_default_dtypes():
    f32 = np.ones(3, dtype=np.float32)
    i32 = np.ones(3, dtype=np.int32)
    k, n, t = 2.5, 3, True
    # Strong, as numexpr binds them (np.asarray): float64 / int64 / bool.
    assert exprjit.evaluate("f32 * k").dtype == np.float64
    assert exprjit.evaluate("i32 * n").dtype == np.int64
    assert exprjit.evaluate("t & (i32 > 0)").dtype == np.bool_
    # Literals in the text are weak (NEP 50).
    assert exprjit.evaluate("f32 * 2.5").dtype == np.float32
    assert exprjit.evaluate("i32 * 3").dtype == np.int32


def test_numpy_scalars_and_0d_keep_their_dtype():
    f32 = np.ones(3, dtype=np.float32)
    s = np.float32(2)
    z = np.array(2, dtype=np.float32)
    assert exprjit.evaluate("f32 * s").dtype == np.float32
    assert exprjit.evaluate("f32 * z").dtype == np.float32
    assert exprjit.evaluate("f32 * w", {"f32": f32, "w": np.float64(2)}).dtype == np.float64


def test_scalar_only_expressions_give_0d_arrays():
    r = exprjit.evaluate("2 + 3")
    assert isinstance(r, np.ndarray) and r.shape == () and r.dtype == np.int64 and r == 5
    x, y = np.array(1.5), 2
    r = exprjit.evaluate("x * y")
    assert r.shape == () and r.dtype == np.float64 and r == 3.0
    r = exprjit.evaluate("sin(x) > 0")
    assert r.shape == () and r.dtype == np.bool_ and r
    r = exprjit.evaluate("pi * 2")
    assert r.shape == () and r == 2 * np.pi


def test_0d_with_arrays_and_empty_arrays():
    a = np.arange(5.0)
    z = np.array(10.0)
    assert_same(exprjit.evaluate("a + z"), a + z)
    empty = np.zeros((0, 3))
    assert exprjit.evaluate("empty * 2").shape == (0, 3)
    assert exprjit.evaluate("empty * z").shape == (0, 3)


def test_lists_and_array_likes():
    class ArrayLike:
        def __array__(self, dtype=None, copy=None):
            return np.array([1.0, 2.0, 3.0])

    lst = [1, 2, 3]
    al = ArrayLike()
    assert_same(exprjit.evaluate("lst * 2"), np.array([2, 4, 6]))
    assert_same(exprjit.evaluate("al + 1"), np.array([2.0, 3.0, 4.0]))
    mv = memoryview(np.arange(3, dtype=np.int32))
    assert_same(exprjit.evaluate("mv + 1"), np.array([1, 2, 3], dtype=np.int32))


def test_subclasses_are_read_as_ndarrays():
    m = np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    r = exprjit.evaluate("m * 2")
    assert type(r) is np.ndarray
    assert_same(r, np.array([2.0, 4.0, 6.0]))


# ---------------------------------------------------------------- out


def test_out_contiguous_and_returned(rng):
    a, b = rng.standard_normal(100), rng.standard_normal(100)
    out = np.empty(100)
    r = exprjit.evaluate("a * b", out=out)
    assert r is out
    assert_same(out, a * b)


def test_out_of_another_dtype_same_kind(rng):
    a = rng.standard_normal(50)
    out = np.empty(50, dtype=np.float32)
    exprjit.evaluate("a * 2", out=out)
    assert_same(out, (a * 2).astype(np.float32))
    iout = np.empty(50, dtype=np.int64)
    with pytest.raises(TypeError, match="cannot hold"):
        exprjit.evaluate("a * 2", out=iout)
    exprjit.evaluate("a * 2", out=iout, casting="unsafe")
    assert_same(iout, (a * 2).astype(np.int64))
    with pytest.raises(TypeError):
        exprjit.evaluate("a * 2", out=out, casting="safe")
    with pytest.raises(ValueError, match="casting"):
        exprjit.evaluate("a * 2", out=out, casting="sometimes")


def test_out_shape_must_match(rng):
    a = rng.standard_normal(12)
    with pytest.raises(ValueError, match="output has shape"):
        exprjit.evaluate("a * 2", out=np.empty(13))
    with pytest.raises(ValueError, match="output has shape"):
        exprjit.evaluate("a * 2", out=np.empty((3, 4)))


def test_out_not_writeable_or_not_array(rng):
    a = rng.standard_normal(5)
    ro = np.empty(5)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        exprjit.evaluate("a + 1", out=ro)
    with pytest.raises(TypeError, match="numpy array"):
        exprjit.evaluate("a + 1", out=[0.0] * 5)


def test_out_non_contiguous_and_unsupported_dtypes(rng):
    a = rng.standard_normal((6, 8))
    big = np.zeros((6, 16))
    exprjit.evaluate("a * 3", out=big[:, ::2])
    assert_same(big[:, ::2], a * 3)
    assert not big[:, 1::2].any()
    half = np.empty((6, 8), dtype=np.float16)
    exprjit.evaluate("a * 3", out=half)
    assert_same(half, (a * 3).astype(np.float16))
    f = np.empty((6, 8), order="F")
    exprjit.evaluate("a * 3", out=f)
    assert_same(f, a * 3)
    b = np.empty(8, dtype=np.bool_)
    exprjit.evaluate("x > 0", {"x": a[0]}, out=b)
    assert_same(b, a[0] > 0)


def test_out_is_an_input(rng):
    # 1-d, in place.
    a = rng.standard_normal(1000)
    b = rng.standard_normal(1000)
    want = a * 2 + b
    r = exprjit.evaluate("a * 2 + b", out=a)
    assert r is a
    assert_same(a, want)
    # 2-d, C-contiguous, with a broadcast operand: through a fresh result.
    m = rng.standard_normal((30, 40))
    v = rng.standard_normal(40)
    want = m * v + 1
    exprjit.evaluate("m * v + 1", out=m)
    assert_same(m, want)
    # 2-d, every operand of the same layout: flattened, in place.
    m2 = rng.standard_normal((30, 40))
    n2 = rng.standard_normal((30, 40))
    want = m2 - n2
    exprjit.evaluate("m2 - n2", out=m2)
    assert_same(m2, want)
    # The same array under two names.
    x = rng.standard_normal(100)
    want = x * x + x
    exprjit.evaluate("p * q + p", {"p": x, "q": x}, out=x)
    assert_same(x, want)
    # Bool in place.
    flags = rng.random(100) < 0.5
    want = ~flags
    exprjit.evaluate("~flags", out=flags)
    assert_same(flags, want)


def test_out_overlapping_an_input_shifted(rng):
    """numpy semantics: as if every input were read before out is written."""
    a = rng.standard_normal(100)
    want = a[:-1] + a[1:]
    src1, src2 = a[:-1], a[1:]
    exprjit.evaluate("src1 + src2", out=a[1:])
    assert_same(a[1:], want)


def test_out_zero_d():
    out = np.empty(())
    x = np.array(2.0)
    exprjit.evaluate("x * 3", out=out)
    assert out == 6.0


# ---------------------------------------------------------------- frames


def _helper_using_frame():
    local_h = np.arange(3.0)
    return exprjit.evaluate("local_h * 2")


def test_names_from_locals_and_globals():
    local_l = np.arange(4.0)
    assert_same(exprjit.evaluate("local_l + GLOBAL_G"), local_l + GLOBAL_G)
    assert_same(_helper_using_frame(), np.arange(3.0) * 2)


def test_local_shadows_global():
    GLOBAL_G = np.ones(4)  # noqa: N806 - shadows the module's on purpose
    assert_same(exprjit.evaluate("GLOBAL_G * 1"), np.ones(4))


def test_closure_variables():
    outer = np.arange(3.0)

    def inner():
        # Python captures `outer` only if the function's code uses it (the
        # same holds for numexpr): the string alone is not enough.
        _ = outer
        return exprjit.evaluate("outer + 1")

    assert_same(inner(), outer + 1)


def test_local_dict_with_frame_globals():
    assert_same(exprjit.evaluate("x + GLOBAL_G", local_dict={"x": 1.0}), GLOBAL_G + 1.0)
    with pytest.raises(KeyError):
        exprjit.evaluate("x + GLOBAL_G", local_dict={"x": 1.0}, global_dict={})
    assert_same(exprjit.evaluate("x + y", local_dict={"x": 1.0}, global_dict={"y": 2.0}), np.array(3.0))


def test_mapping_that_is_not_a_dict():
    class Env:
        def __getitem__(self, k):
            if k == "q":
                return np.arange(3)
            raise KeyError(k)

    assert_same(exprjit.evaluate("q * 2", local_dict=Env(), global_dict={}), np.arange(3) * 2)


def test_frame_depth_for_wrappers():
    def wrapper(ex):
        return exprjit.evaluate(ex, _frame_depth=4)  # numexpr's numbering

    mine = np.arange(3.0)
    assert_same(wrapper("mine * 2"), mine * 2)


def test_unknown_names_raise_key_and_name_error():
    a = np.arange(3.0)
    with pytest.raises(KeyError):
        exprjit.evaluate("a + missing")
    with pytest.raises(NameError):
        exprjit.evaluate("a + missing")


def test_constants_and_shadowing():
    # The module-level `e` is an exception object, not a number: the
    # constant e is meant.
    assert exprjit.evaluate("e * 1") == np.e
    pi = 3  # a number shadows the constant  # noqa: F841
    assert exprjit.evaluate("pi * 1") == 3
    inf = "not a number"  # noqa: F841
    assert exprjit.evaluate("inf > 1")


def test_expression_must_be_a_string():
    with pytest.raises(TypeError):
        exprjit.evaluate(b"1 + 2")


def test_numexpr_keywords_accepted():
    a = np.arange(3.0)
    assert_same(
        exprjit.evaluate("a + 1", sanitize=True, optimization="aggressive", truediv=True, disable_cache=True),
        a + 1,
    )
    with pytest.raises(TypeError, match="unexpected keyword"):
        exprjit.evaluate("a + 1", nonsense=1)


# ---------------------------------------------------------------- re_evaluate / validate


def test_re_evaluate_uses_current_values():
    a = np.arange(3.0)
    exprjit.evaluate("a * 10")
    a = np.arange(3.0) + 1
    assert_same(exprjit.re_evaluate(), a * 10)
    assert_same(exprjit.re_evaluate({"a": np.ones(2)}), np.full(2, 10.0))


def test_re_evaluate_keeps_out():
    a = np.arange(3.0)
    out = np.empty(3)
    exprjit.evaluate("a + 1", out=out)
    a = a * 2
    assert exprjit.re_evaluate() is out
    assert_same(out, a + 1)


def test_re_evaluate_holds_out_weakly():
    """As numexpr: the last `out` is not kept alive for re_evaluate; once
    it is freed, re_evaluate returns a new array."""
    a = np.arange(3.0)
    out = np.empty(3)
    exprjit.evaluate("a + 1", out=out)
    alive = weakref.ref(out)
    a = a * 2
    assert exprjit.re_evaluate() is out
    assert_same(out, a + 1)
    del out
    gc.collect()
    assert alive() is None
    r = exprjit.re_evaluate()
    assert_same(r, a + 1)
    # The same after validate.
    out = np.empty(3)
    assert exprjit.validate("a * 3", out=out) is None
    alive = weakref.ref(out)
    assert exprjit.re_evaluate() is out
    del out
    gc.collect()
    assert alive() is None
    assert_same(exprjit.re_evaluate(), a * 3)


def test_arrays_deleted_after_evaluate_are_freed():
    """Reading the caller's locals keeps no reference: an array the caller
    deletes is freed (numexpr's behaviour; before Python 3.13 a frame's
    locals snapshot would otherwise hold it)."""
    big = np.arange(10.0)
    alive = weakref.ref(big)
    exprjit.evaluate("big * 2")
    assert exprjit.validate("big * 2") is None
    del big
    gc.collect()
    assert alive() is None


def test_the_callers_namespace_is_left_alone():
    ns = {"x": np.arange(3.0), "exprjit": exprjit}
    exec("r = exprjit.evaluate('x + 1')", ns)  # a module-like frame
    assert "x" in ns and ns["r"].tolist() == [1.0, 2.0, 3.0]

    class Body:
        y = np.arange(2.0)
        z = exprjit.evaluate("y * 2")

    assert Body.y.tolist() == [0.0, 1.0] and Body.z.tolist() == [0.0, 2.0]


def test_validate_returns_none_or_the_exception():
    a = np.arange(3.0)
    b = np.arange(4.0)
    assert exprjit.validate("a * 2") is None
    assert_same(exprjit.re_evaluate(), a * 2)
    err = exprjit.validate("a + b")
    assert isinstance(err, ValueError) and "do not broadcast" in str(err)
    assert isinstance(exprjit.validate("a +"), SyntaxError)
    assert isinstance(exprjit.validate("a + nope"), KeyError)
    assert isinstance(exprjit.validate("a & a"), TypeError)
    assert isinstance(exprjit.validate("a * 2", out=np.empty(5)), ValueError)
    assert isinstance(exprjit.validate("a * 2", out=np.empty(3, dtype=np.int32)), TypeError)
    f32 = np.empty(3, dtype=np.float32)
    # numexpr's validate defaults to casting='safe'.
    assert isinstance(exprjit.validate("a * 2", out=f32), TypeError)
    assert exprjit.validate("a * 2", out=f32, casting="same_kind") is None
    # A failed validate leaves the last good call (out included) for
    # re_evaluate.
    assert exprjit.validate("a +") is not None
    assert exprjit.re_evaluate() is f32
    assert_same(f32, (a * 2).astype(np.float32))


# ---------------------------------------------------------------- NumExpr


def test_numexpr_object():
    ne = exprjit.NumExpr("a * b + 1", signature=[("a", np.float64), ("b", "float32")])
    assert ne.input_names == ("a", "b")
    assert ne.signature == [("a", "float64"), ("b", "float32")]
    assert ne.dtype == np.float64
    assert ne.ex == "a * b + 1"
    a = np.arange(4.0)
    b = np.arange(4, dtype=np.float32)
    assert_same(ne.run(a, b), a * b + 1)
    assert_same(ne(a, b), a * b + 1)
    # Safe casts of arguments; Python scalars are weak.
    assert_same(ne.run(np.arange(4, dtype=np.int32), b), np.arange(4.0) * b + 1)
    assert_same(ne.run(2, 0.5), np.array(2.0))
    with pytest.raises(TypeError, match="cannot be cast safely"):
        ne.run(a, a)  # float64 -> float32 is not safe
    with pytest.raises(TypeError, match="takes 2 arrays"):
        ne.run(a)
    out = np.empty(4)
    assert ne.run(a, b, out=out) is out
    assert_same(out, a * b + 1)
    assert "NumExpr" in repr(ne)


def test_numexpr_object_defaults_and_pickle():
    ne = exprjit.NumExpr("x * y - pi")
    assert ne.input_names == ("x", "y")
    assert ne.signature == [("x", "float64"), ("y", "float64")]
    back = pickle.loads(pickle.dumps(ne))
    x, y = np.arange(3.0), np.ones(3)
    assert_same(back.run(x, y), x * y - np.pi)
    with pytest.raises(TypeError, match="unexpected keyword"):
        exprjit.NumExpr("x", bogus=1)
    assert exprjit.NumExpr("x", optimization="aggressive").run(np.ones(1)) == 1


def test_numexpr_object_layouts_and_errors():
    ne = exprjit.NumExpr("a - b", [("a", "int64"), ("b", "int64")])
    a = np.arange(24).reshape(4, 6)
    assert_same(ne.run(a.T, a[0, :6][:, None]), a.T - a[0, :6][:, None])
    f = np.asfortranarray(a)
    r = ne.run(f, f)
    assert r.flags.f_contiguous
    with pytest.raises(ValueError, match=r"shapes \[3\] and \[4\] do not broadcast"):
        ne.run(np.arange(3), np.arange(4))
    with pytest.raises(ValueError, match=r"shapes \[6, 4\] and \[4, 1\] do not broadcast"):
        ne.run(a.T, a[0, :4][:, None])
    with pytest.raises(KeyError):
        exprjit.NumExpr("a + c", [("a", float)])
    with pytest.raises(TypeError):
        exprjit.NumExpr("a", [("a", complex)])
    with pytest.raises(ValueError, match="twice"):
        exprjit.NumExpr("a", [("a", float), ("a", float)])


# ---------------------------------------------------------------- cache


def test_cache_info_and_clear():
    exprjit.cache_clear()
    info = exprjit.cache_info()
    assert info.currsize == 0 and info.hits == 0 and info.kernels == ()
    a = np.arange(100.0)
    for _ in range(4):
        exprjit.evaluate("a * 3.25 + 1")
    info = exprjit.cache_info()
    assert info.currsize >= 1
    assert info.hits >= 2
    assert info.compile_time > 0
    k = info.kernels[0]
    assert k.expr == "a * 3.25 + 1" and k.params == ("float64",) and k.out == "float64"
    assert k.code_size > 0 and k.runs >= 2
    assert info.maxsize >= 1
    exprjit.set_cache_size(1)
    exprjit.evaluate("a * 4.25 + 1")
    exprjit.evaluate("a * 4.25 + 1")
    assert exprjit.cache_info().currsize == 1
    exprjit.set_cache_size(256)


def test_version_and_module_attributes():
    assert isinstance(exprjit.__version__, str)
    assert exprjit.ncores == exprjit.detect_number_of_cores() >= 1


# ---------------------------------------------------------------- axes


def test_roll_keeps_its_axes_in_every_layout(rng):
    """roll depends on axes: the binding must not transpose or flatten its
    operands (as it may for elementwise expressions)."""
    m = rng.standard_normal((5, 7))
    f = np.asfortranarray(m)
    for x in (m, f, m.T.copy().T, m[::-1, ::2]):
        want = np.roll(x, 1, 0) + 2 * np.roll(x, -2, 1)
        assert_same(exprjit.evaluate("roll(x, 1, 0) + 2 * roll(x, -2, 1)"), want)
        assert_same(exprjit.evaluate("roll(x, 1, 0) + 2 * roll(x, -2, 1)", order="F"), want)
    ne = exprjit.NumExpr("roll(x, 1, 1) - x", [("x", float)])
    assert_same(ne.run(f), np.roll(f, 1, 1) - f)


def test_roll_with_out_being_the_rolled_input(rng):
    """numpy's semantics: every input is read before `out` is written."""
    v = rng.standard_normal(50)
    want = np.roll(v, 1, 0) + v
    exprjit.evaluate("roll(v, 1, 0) + v", out=v)
    assert_same(v, want)
    m = rng.standard_normal((6, 9))
    want = np.roll(m, 1, 1) * 2
    exprjit.evaluate("roll(m, 1, 1) * 2", out=m)
    assert_same(m, want)
    # The diffusion step, in place.
    u = rng.random((16, 12))
    D, dt = 1.0, 0.1
    want = u + D * dt * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u)
    exprjit.evaluate("u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)", out=u)
    assert_same(u, want)


def test_reductions(rng):
    a = rng.standard_normal(1000)
    m = rng.standard_normal((40, 30))
    f = np.asfortranarray(m)
    r = exprjit.evaluate("sum(a)")
    assert r.shape == () and np.isclose(r, a.sum(), rtol=1e-12)
    assert np.allclose(exprjit.evaluate("sum(m, axis=1)"), m.sum(axis=1), rtol=1e-12)
    assert np.allclose(exprjit.evaluate("sum(f, axis=0)"), f.sum(axis=0), rtol=1e-12)
    assert np.allclose(exprjit.evaluate("m - mean(m, axis=0)", order="F"), m - m.mean(axis=0))
    # Shapes that do not broadcast before the reduction are fine.
    b = rng.standard_normal(7)
    assert np.allclose(exprjit.evaluate("b * sum(a)"), b * a.sum(), rtol=1e-12)
    out = np.empty(())
    assert exprjit.evaluate("max(a)", out=out) is out and out == a.max()
    with pytest.raises(ValueError, match="output has shape"):
        exprjit.evaluate("sum(m, axis=1)", out=np.empty(30))
    # In place over an input the reduction reads.
    want = a - a.mean()
    exprjit.evaluate("a - mean(a)", out=a)
    assert np.allclose(a, want, rtol=1e-12, atol=1e-15)
    assert exprjit.validate("sum(m, axis=1)") is None
    assert isinstance(exprjit.validate("sum(m, axis=1) & 1"), TypeError)
    ne = exprjit.NumExpr("x - mean(x)", [("x", float)])
    assert np.allclose(ne.run(m[0]), m[0] - m[0].mean())
