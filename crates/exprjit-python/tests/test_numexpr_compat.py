"""exprjit against numexpr, where numexpr is installed: the API's names and
signatures, and results of expressions on which both promise the same
meaning (float64, int64 and bool operands, where numexpr and NumPy 2 agree
on dtypes). The differences the README's table lists are asserted as
differences, so that the table stays true."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from conftest import LIBM_ULPS, REJECTED, assert_same, random_array, rejected_env

import exprjit

numexpr = pytest.importorskip("numexpr")


def test_api_names_exist():
    for name in [
        "evaluate", "re_evaluate", "validate", "NumExpr", "set_num_threads",
        "get_num_threads", "detect_number_of_cores", "ncores",
    ]:
        assert hasattr(numexpr, name) and hasattr(exprjit, name), name


@pytest.mark.parametrize("func", ["evaluate", "validate", "re_evaluate"])
def test_signatures_accept_numexpr_arguments(func):
    ours = inspect.signature(getattr(exprjit, func)).parameters
    theirs = inspect.signature(getattr(numexpr, func)).parameters
    for name, p in theirs.items():
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        assert name in ours or "kwargs" in ours, f"{func}() lacks '{name}'"
    names = [n for n in theirs if n in ours]
    assert names == [n for n in ours if n in theirs], "positional order differs"


# Exact operations: bit-identical to numexpr.
EXACT = [
    "a + b", "a - b", "a * b", "a / b", "a < b", "a == b", "where(a > b, a, b)",
    "a * 2 + b", "-a", "abs(a)", "sqrt(abs(a))", "a * b - a / (b + 2.5)", "fmod(a, b)",
    "(a > 0) & (b < 0) | ~(a == b)", "where(c, a, b)", "c & (a > 0)", "floor(a) + ceil(b)",
    "i + j", "i * j - i", "i // j", "i < j", "where(c, i, j)", "i * 3 + 1", "i & j", "i ^ j",
    "a + i", "a * i - j", "i / j", "i > a",
]
# libm: numexpr is within 1 ULP itself.
LIBM = ["sin(a)", "cos(a)", "tan(a)", "exp(a / 10)", "log(abs(a))", "log10(abs(a))",
        "log1p(abs(a))", "expm1(a / 10)", "arctan2(a, b)", "sinh(a / 10)", "cosh(a / 10)",
        "tanh(a)", "arcsin(a / 100)", "arccos(a / 100)", "arctan(a)", "abs(a) ** 2.5",
        "sqrt(a) ** 1.5"]


def _env(rng):
    return {
        "a": random_array(rng, np.float64, 2001),
        "b": random_array(rng, np.float64, 2001),
        "c": random_array(rng, np.bool_, 2001),
        "i": random_array(rng, np.int64, 2001),
        # numexpr's integer // and % by zero are platform-defined: no zeros.
        "j": np.where(random_array(rng, np.int64, 2001) == 0, 7, random_array(rng, np.int64, 2001)),
    }


@pytest.mark.parametrize("ex", EXACT)
def test_exact_like_numexpr(ex, rng):
    env = _env(rng)
    with np.errstate(all="ignore"):
        want = numexpr.evaluate(ex, local_dict=env)
    signed_zero = "where" not in ex
    assert_same(exprjit.evaluate(ex, local_dict=env), want, signed_zero=signed_zero, what=ex)


@pytest.mark.parametrize("ex", LIBM)
def test_libm_close_to_numexpr(ex, rng):
    env = _env(rng)
    with np.errstate(all="ignore"):
        want = numexpr.evaluate(ex, local_dict=env)
    got = exprjit.evaluate(ex, local_dict=env)
    # Both within their bound of the true value: within LIBM_ULPS + 1 of
    # each other.
    assert_same(got, want, ulps=LIBM_ULPS + 1, ref=want, what=ex)


def test_documented_differences():
    """Each row of the README's table of differences, checked."""
    f32 = np.array([1.5, 2.5], dtype=np.float32)
    i32 = np.array([1, -7], dtype=np.int32)
    a = np.array([0.1, 3.0])
    k = 2.5
    ev = exprjit.evaluate
    ne = numexpr.evaluate
    # NEP 50: an int32 array and a float32 array give float64 ...
    assert ev("i32 * f32").dtype == np.float64
    assert ne("i32 * f32").dtype == np.float32
    # ... a float literal is weak ...
    assert ev("f32 * 2.0").dtype == np.float32
    assert ne("f32 * 2.0").dtype == np.float64
    # ... but a Python float variable is strong in both (numpy: weak).
    assert ev("f32 * k").dtype == ne("f32 * k").dtype == np.float64
    assert (f32 * k).dtype == np.float32
    # Integer literals that do not fit the array's dtype.
    with pytest.raises(TypeError):
        ev("i32 + 3000000000")
    assert ne("i32 + 3000000000").dtype == np.int64
    # abs/floor of integers keep the integer dtype.
    assert ev("abs(i32)").dtype == np.int32 and ne("abs(i32)").dtype == np.float64
    # Division by a constant is a division, not a multiplication.
    x = np.random.default_rng(0).random(10_000) * 10
    assert (ev("x / 3.0") == x / 3.0).all()
    assert not (ne("x / 3.0") == x / 3.0).all()
    # % of floats is numpy's remainder, exact.
    assert ev("a % 0.3")[1] == 3.0 % 0.3 != ne("a % 0.3")[1]
    # Booleans do not do arithmetic.
    b = np.array([True, False])
    with pytest.raises(TypeError):
        ev("b + b")
    assert ne("b + b").dtype == np.bool_
    # Constants and casts exist.
    assert ev("pi + 0") == np.pi
    with pytest.raises(KeyError):
        ne("pi + 0")
    assert ev("float32(i32)").dtype == np.float32
    # Literal-only expressions: int64 (NumPy's default), not int32.
    assert ev("2 + 3").dtype == np.int64 and ne("2 + 3").dtype == np.int32


# ---------------------------------------------------------------- exception classes


def _raised(module, ex):
    try:
        module.evaluate(ex, local_dict=rejected_env(), global_dict={})
    except Exception as e:
        return e
    return None


@pytest.mark.parametrize("ex", [ex for ex, _ in REJECTED], ids=[repr(ex) for ex, _ in REJECTED])
def test_exception_is_an_instance_of_numexprs(ex):
    """For every input both reject, exprjit's exception is an instance of
    the class numexpr raises, so that `except` clauses written for numexpr
    keep catching it."""
    theirs = _raised(numexpr, ex)
    ours = _raised(exprjit, ex)
    assert theirs is not None and ours is not None, (theirs, ours)
    assert isinstance(ours, type(theirs)), (
        f"{ex!r}: numexpr raises {type(theirs).__name__} ({theirs}), exprjit {type(ours).__mro__}"
    )


def test_re_evaluate_after_out_is_freed_returns_a_new_array_as_numexpr():
    import gc

    for module in (numexpr, exprjit):
        a = np.arange(3.0)
        module.evaluate("a + 1", out=np.empty(3))
        gc.collect()
        assert_same(module.re_evaluate(), a + 1)
