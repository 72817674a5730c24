"""Errors become Python exceptions of the right built-in class, carrying
exprjit's message (the expression, a caret line, ``error: ...``), and no
input string is ever evaluated as Python; odd inputs give a result or a
typed error, never a Rust panic; exceptions raised by the user's objects
come out unchanged."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from conftest import REJECTED, assert_same, rejected_env
from numpy.lib.stride_tricks import as_strided

import exprjit

a = np.arange(3.0)
b = np.arange(4.0)
i = np.arange(3, dtype=np.int32)
flags = np.array([True, False, True])


def raises(ex, cls, **kw):
    with pytest.raises(cls) as info:
        exprjit.evaluate(ex, **kw)
    assert isinstance(info.value, exprjit.ExprjitError)
    return info.value


def test_syntax_error():
    e = raises("a +* b", SyntaxError)
    assert isinstance(e, exprjit.ExprjitSyntaxError)
    assert str(e) == "\na +* b\n   ^\nerror: unexpected '*'\nhint: expected an expression"
    assert e.expression == "a +* b"
    assert e.span == (3, 4)
    assert e.message == "unexpected '*'"
    assert e.kind == "syntax"


def test_unknown_variable_is_key_and_name_error():
    e = raises("a + d", KeyError)
    assert isinstance(e, NameError) and isinstance(e, exprjit.UnknownNameError)
    assert str(e) == "\na + d\n    ^\nerror: unknown variable 'd'\nhint: did you mean 'a'?"
    assert e.kind == "unknown_variable"
    assert e.hint == "did you mean 'a'?"


def test_unknown_function():
    e = raises("frobnicate(a)", NameError)
    assert e.kind == "unknown_function"
    assert "^^^^^^^^^^" in str(e)


def test_wrong_arity_is_type_error():
    e = raises("sqrt(a, b)", TypeError)
    assert "sqrt() takes 1 argument, got 2" in str(e)


@pytest.mark.parametrize(
    "ex,fragment",
    [
        ("a & a", "'&' is not defined for float64"),
        ("flags + flags", "is not defined for bool"),
        ("-flags", "is not defined for bool"),
        ("i + 3000000000", "integer 3000000000 is out of range for int32"),
        ("i << 1.5", "not defined for float64"),
    ],
)
def test_dtype_errors_are_type_errors(ex, fragment):
    e = raises(ex, TypeError)
    assert isinstance(e, exprjit.ExprjitTypeError)
    assert fragment in str(e)
    assert "\n" + ex + "\n" in str(e)


def test_shape_errors_are_value_errors():
    e = raises("a + b", ValueError)
    assert "shapes [3] and [4] do not broadcast together" in str(e)
    assert str(e).startswith("\na + b\n    ^\n")
    e = raises("a * 2", ValueError, out=np.empty(4))
    assert "output has shape [4], the result has shape [3]" in str(e)


def test_negative_integer_power_is_value_error():
    e = raises("i ** -1", ValueError)
    assert "negative integer powers" in str(e)


def test_limits_are_errors_not_crashes():
    deep = "(" * 2000 + "a" + ")" * 2000
    raises(deep, exprjit.ExprjitError)
    long = "a" + " + a" * 300_000  # > 1 MiB
    raises(long, exprjit.ExprjitError)
    raises("", SyntaxError)
    raises("   ", SyntaxError)
    raises("a\0", SyntaxError)


@pytest.mark.parametrize(
    "ex",
    [
        "__import__('os').system('touch {path}')",
        "open('{path}', 'w')",
        "exec('open(\"{path}\", \"w\")')",
        "eval('1')",
        "a.__class__",
        "lambda: 1",
        "[x for x in a]",
        "a if flags else b",
        "a; import os",
        "a.sum()",
        "a[0]",
        "{{}}",
        "f'{{a}}'",
        "getattr(a, 'T')",
    ],
)
def test_nothing_is_evaluated_as_python(ex, tmp_path):
    path = tmp_path / "pwned"
    with pytest.raises(exprjit.ExprjitError):
        exprjit.evaluate(ex.format(path=path))
    assert not path.exists()
    assert not os.path.exists("pwned")


def test_exceptions_pickle():
    e = raises("a + d", KeyError)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is type(e)
    assert str(back) == str(e) and back.span == e.span and back.kind == e.kind


def test_errors_do_not_poison_later_calls():
    for _ in range(3):
        raises("a + d", KeyError)
    assert exprjit.evaluate("a + 1").tolist() == [1.0, 2.0, 3.0]


def test_numexpr_object_errors():
    with pytest.raises(SyntaxError):
        exprjit.NumExpr("a +")
    with pytest.raises(TypeError, match="not defined"):
        exprjit.NumExpr("a & a")


# ---------------------------------------------------------------- classes per input


@pytest.mark.parametrize("ex,cls", REJECTED, ids=[repr(ex) for ex, _ in REJECTED])
def test_class_of_each_rejected_input(ex, cls):
    """The class chosen for each input of the numexpr comparison
    (test_numexpr_compat.py checks them against numexpr's)."""
    with pytest.raises(Exception) as info:
        exprjit.evaluate(ex, local_dict=rejected_env(), global_dict={})
    e = info.value
    assert type(e).__name__ == cls, f"{ex!r}: {type(e).__name__}: {e}"
    if cls != "ValueError":  # numpy's own, unchanged
        assert isinstance(e, exprjit.ExprjitError)
        assert type(e) is getattr(exprjit, cls)


def test_the_numexpr_classes_keep_exprjits():
    assert issubclass(exprjit.ForbiddenSyntaxError, exprjit.ExprjitSyntaxError)
    assert issubclass(exprjit.ForbiddenSyntaxError, ValueError)
    assert issubclass(exprjit.UnsupportedSyntaxError, TypeError)
    assert issubclass(exprjit.ExprjitIndentationError, IndentationError)
    assert issubclass(exprjit.UnknownFunctionError, exprjit.UnknownNameError)
    assert issubclass(exprjit.UnknownFunctionError, TypeError)
    assert issubclass(exprjit.UnsupportedOperationError, exprjit.ExprjitTypeError)
    assert issubclass(exprjit.UnsupportedOperationError, NotImplementedError)
    assert issubclass(exprjit.UnsupportedValueError, exprjit.ExprjitTypeError)
    assert issubclass(exprjit.UnsupportedValueError, ValueError)
    assert issubclass(exprjit.ArrayTooBigError, exprjit.ExprjitMemoryError)
    assert issubclass(exprjit.ArrayTooBigError, ValueError)
    for name in exprjit._errors.__all__:
        cls = getattr(exprjit, name)
        assert cls.__module__ == "exprjit" and name in exprjit.__all__


def test_validate_and_numexpr_object_take_the_same_classes():
    env = rejected_env()
    assert isinstance(exprjit.validate("a[0]", env, {}), exprjit.ForbiddenSyntaxError)
    assert isinstance(exprjit.validate("a & b", env, {}), exprjit.UnsupportedOperationError)
    assert isinstance(exprjit.validate(3, env, {}), exprjit.UnsupportedValueError)
    with pytest.raises(exprjit.UnsupportedValueError):
        exprjit.NumExpr(3)
    with pytest.raises(exprjit.UnsupportedOperationError):
        exprjit.NumExpr("sin(a, b)")
    with pytest.raises(ValueError):  # numexpr: ValueError
        exprjit.NumExpr("a + b").run(np.ones(2))


# ---------------------------------------------------------------- exceptions of the user's objects


class Custom(Exception):
    pass


@pytest.mark.parametrize(
    "exc", [KeyboardInterrupt, SystemExit, MemoryError, GeneratorExit, ValueError, Custom]
)
def test_exceptions_from_array_come_out_unchanged(exc):
    class Raising:
        def __array__(self, dtype=None, copy=None):
            raise exc("from __array__")

    r = Raising()
    with pytest.raises(exc) as info:
        exprjit.evaluate("x + 1", {"x": r}, {})
    assert type(info.value) is exc and str(info.value) == "from __array__"
    if hasattr(info.value, "__notes__"):  # Python 3.11+
        assert "variable 'x'" in info.value.__notes__[0]
    with pytest.raises(exc):
        exprjit.NumExpr("x + 1").run(r)
    # A constant's name bound to such an object: an ordinary exception
    # leaves the constant, the others come out.
    if issubclass(exc, Exception) and exc is not MemoryError:
        assert exprjit.evaluate("e + 0", {"e": r}, {}) == np.e
    else:
        with pytest.raises(exc):
            exprjit.evaluate("e + 0", {"e": r}, {})
    assert exprjit.evaluate("x + 1", {"x": np.arange(2.0)}, {}).tolist() == [1.0, 2.0]


# ---------------------------------------------------------------- no panics


def _not_a_panic(call):
    """Runs `call`: a result, or an exception that `except Exception`
    catches (a Rust panic surfaces as pyo3's PanicException, a
    BaseException)."""
    try:
        return call()
    except Exception as e:
        assert type(e).__name__ != "PanicException"
        return e


@pytest.mark.parametrize("ndim", [32, 33, 40, 64])
def test_results_of_many_dimensions(ndim, rng):
    shape = (2,) * 5 + (1,) * (ndim - 6) + (3,)
    a = rng.standard_normal(shape)
    b = rng.standard_normal(shape[-1])
    assert_same(exprjit.evaluate("a * b + 1"), a * b + 1)
    assert_same(exprjit.NumExpr("a * b + 1").run(a, b), a * b + 1)
    assert_same(exprjit.evaluate("sum(a, axis=0)"), np.sum(a, axis=0))
    assert_same(exprjit.evaluate("a + 1", order="F"), a + 1)
    f = np.asfortranarray(a)
    r = exprjit.evaluate("f * 2")
    assert_same(r, f * 2)
    out = np.empty(shape)
    assert exprjit.evaluate("a - 1", out=out) is out
    assert_same(out, a - 1)


def test_a_result_too_large_is_a_memory_error():
    big = np.broadcast_to(1.0, (2**59,))  # 4 EiB: beyond any address space
    with pytest.raises(exprjit.ExprjitMemoryError, match="too large") as info:
        exprjit.evaluate("big + 1")
    assert isinstance(info.value, MemoryError)
    # More bytes than an address holds: numpy's ValueError too.
    x = np.broadcast_to(1.0, (2**31, 1))
    y = np.broadcast_to(1.0, (1, 2**31))
    with pytest.raises(exprjit.ArrayTooBigError) as info:
        exprjit.evaluate("x * y")
    assert isinstance(info.value, MemoryError) and isinstance(info.value, ValueError)
    z = np.broadcast_to(1.0, (2**59, 1))
    w = np.broadcast_to(1.0, (1, 2**59))
    with pytest.raises(exprjit.ArrayTooBigError):
        exprjit.evaluate("z * w")  # 2^118 elements
    # Type errors still come first.
    with pytest.raises(exprjit.UnsupportedOperationError):
        exprjit.evaluate("x & y")


def test_a_reduction_too_large_to_allocate_is_a_memory_error():
    """sum over the empty axis of a (0, 2^59) array: 2^59 zeros, 4 EiB.
    In a child process: an allocation failure would abort it."""
    code = (
        "import numpy as np, exprjit\n"
        "z = np.empty((0, 2**59))\n"
        "try:\n"
        "    exprjit.evaluate('sum(z, axis=0)')\n"
        "except exprjit.ExprjitMemoryError:\n"
        "    print('ok')\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.stdout.split() == ["ok"], (p.returncode, p.stderr[-2000:])


def test_strides_beyond_the_address_space_are_refused_unread():
    for dtype in (np.float64, np.bool_):
        far = as_strided(np.zeros(1, dtype), shape=(17,), strides=(2**62,))
        with pytest.raises(exprjit.UnsupportedValueError, match="address space"):
            exprjit.evaluate("far == far")
        back = as_strided(np.zeros(1, dtype), shape=(17,), strides=(-(2**62),))
        with pytest.raises(exprjit.UnsupportedValueError):
            exprjit.evaluate("back == back")


def test_bad_out_and_arguments_are_exprjit_errors():
    a = np.arange(3.0)
    ro = np.ones(3)
    ro.flags.writeable = False
    with pytest.raises(exprjit.ExprjitValueError, match="read-only"):
        exprjit.evaluate("a + 1", out=ro)
    with pytest.raises(exprjit.ExprjitTypeError, match="numpy array"):
        exprjit.evaluate("a + 1", out=[0.0, 0.0, 0.0])
    with pytest.raises(exprjit.ExprjitValueError, match="order"):
        exprjit.evaluate("a + 1", order="X")
    with pytest.raises(exprjit.ExprjitValueError, match="casting"):
        exprjit.evaluate("a + 1", casting="X")
    with pytest.raises(exprjit.UnsupportedValueError, match="must be a string"):
        exprjit.evaluate(b"a + 1")


@pytest.mark.parametrize(
    "ex,env",
    [
        ("a + 1", {"a": np.empty((0, 2**59))}),
        ("sum(a, axis=1)", {"a": np.empty((0, 2**59))}),
        ("roll(a, 3, 1)", {"a": np.empty((0, 5))}),
        ("roll(a, 9223372036854775807, 0)", {"a": np.arange(5.0)}),
        ("sum(a, axis=-9223372036854775807)", {"a": np.ones(3)}),
        ("sum(a, axis=0, keepdims=True)", {"a": np.ones((2,) + (1,) * 63)}),
        ("a + 1", {"a": np.ones(10, dtype=">f8")[::-3]}),
        ("a + 1", {"a": np.ones((4, 4))[::2, ::-3]}),
        ("a + 1", {"a": np.frombuffer(b"\0" * 81, dtype=np.float64, offset=1, count=10)}),
        ("a & a", {"a": np.array([0, 1, 2, 255], np.uint8).view(bool)}),
        ("a + 1", {"a": np.zeros(3, dtype=[("x", "f8"), ("y", "i4")])["y"]}),
        ("a ** 63 + a // 0 + a % 0 + (a << 100) + (a >> -1)", {"a": np.array([-(2**63), 3])}),
        ("int32(a) + int64(a)", {"a": np.array([np.nan, 1e300, -np.inf])}),
        ("a + 1", {"a": np.float16(2)}),
        ("a + 1", {"a": np.uint64(2)}),
        ("a + 1", {"a": np.longdouble(2)}),
        ("a + 1", {"a": np.complex64(2)}),
        ("a + 1", {"a": np.datetime64("2020")}),
        ("a + 1", {"a": np.str_("x")}),
        ("a + 1", {"a": np.array([1, None], dtype=object)}),
        ("a" + " + a" * 300_000, {"a": 1.0}),
        ("sin(" * 500 + "a" + ")" * 500, {"a": 1.0}),
        ("x" * 100_000 + " + 1", {"x" * 100_000: 1.0}),
        ("where(" + ", ".join(["a"] * 1000) + ")", {"a": 1.0}),
    ],
)
def test_odd_inputs_give_a_result_or_a_typed_error(ex, env):
    r = _not_a_panic(lambda: exprjit.evaluate(ex, local_dict=env, global_dict={}))
    if isinstance(r, Exception):
        assert isinstance(r, exprjit.ExprjitError), repr(r)
    _not_a_panic(lambda: exprjit.validate(ex, local_dict=env, global_dict={}))


def test_odd_outs_are_written_or_refused(rng):
    a = rng.standard_normal(5)
    for out in [
        np.empty(10)[::2],
        np.empty(5, ">f8"),
        np.empty(5, np.float16),
        np.empty(5, object),
        np.asarray(np.empty((1, 5))).reshape(5),
    ]:
        r = _not_a_panic(lambda: exprjit.evaluate("a * 2", out=out))
        if not isinstance(r, Exception):
            assert r is out
            assert_same(np.asarray(out, dtype=np.float64), (a * 2).astype(out.dtype).astype(np.float64))
    # Item size 0: numpy writes nothing.
    assert exprjit.evaluate("a * 2", out=np.empty(5, "V0")).dtype == np.dtype("V0")
    for dtype in (np.float64, np.float16):
        far = as_strided(np.zeros(1, dtype), shape=(17,), strides=(2**62,))
        with pytest.raises(exprjit.UnsupportedValueError, match="address space"):
            exprjit.evaluate("b * 2", {"b": np.ones(17)}, {}, out=far)
