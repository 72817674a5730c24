"""exprjit against numpy: several hundred expressions over random arrays of
every supported dtype (special values included), each evaluated twice so
that both the cold-call engine and the compiled kernel run.

numpy is the reference because exprjit follows NumPy 2's promotion rules
(NEP 50); the expected dtype is numpy's. IEEE-exact operations must match
bit for bit (signed zeros included); libm functions must lie within
``LIBM_ULPS`` of the correctly rounded result, computed in a wider type
(float32 via float64, float64 via long double). Known, intended
differences are listed in ``DIFFERENCES`` and asserted as such.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import (
    DTYPES,
    FLOATS,
    INTS,
    LIBM_FUNCTIONS,
    LIBM_ULPS,
    NUMERIC,
    assert_same,
    numpy_namespace,
    random_array,
)

import exprjit

NAMES = {np.bool_: "bool", np.int32: "i32", np.int64: "i64", np.float32: "f32", np.float64: "f64"}

# Unary expressions over one numeric array `a`.
EXACT_UNARY = [
    "-a", "+a", "abs(a)", "floor(a)", "ceil(a)", "trunc(a)", "round(a)", "sign(a)",
    "a*a", "a + a", "a - 1", "2*a + 1", "3 - a*2", "a / 3", "a // 3", "a % 3", "a // -2",
    "a % -2", "sqrt(a)", "isnan(a)", "isinf(a)", "isfinite(a)", "signbit(a)", "a > 0",
    "a <= 1", "a == a", "a != 0", "where(a > 0, a, -a)", "clip(a, -1, 1)", "maximum(a, 0)",
    "minimum(a, 1)", "float64(a)", "float32(a)", "bool(a)", "~(a > 1)", "(a > -1) & (a < 1)",
    "(a < 0) | (a > 5)", "(a > 0) ^ (a > 2)", "a + 0.5", "a * 1.5", "-a + pi",
    "where(isnan(a), 0, a)", "a / a", "a - a", "a * -1", "1 / (a + 0.5)",
    "(a + 1) * (a - 1) / 2", "where(a > 1, 1, where(a < -1, -1, a))",
]

# Casts to integers need finite, in-range floats.
CAST_UNARY = ["int32(a)", "int64(a)", "int32(a) + int64(a)", "float32(int64(a))"]

# Over one bool array `a`.
BOOL_UNARY = [
    "~a", "a & True", "a | False", "a ^ True", "where(a, 1, 2)", "where(a, 1.5, -2.5)",
    "float64(a)", "int32(a)", "int64(a) * 3", "a == True", "a != False", "~a & a",
    "a + 1", "a * 2.5", "a / 2",
]

# Binary expressions over numeric arrays `a`, `b` of any two dtypes.
EXACT_BINARY = [
    "a + b", "a - b", "a * b", "a / b", "a // b", "a % b", "a < b", "a <= b", "a == b",
    "a != b", "a >= b", "a > b", "maximum(a, b)", "minimum(a, b)", "where(a > b, a, b)",
    "fmod(a, b)", "copysign(a, b)", "nextafter(a, b)", "a*b + a", "(a + b) * (a - b)",
    "where(a < b, a * 2, b / 2)", "clip(a, b, b + 10)", "a * 2 - b",
]

# Integer-only binary expressions; `c` holds small non-negative integers.
INT_BINARY = ["a & b", "a | b", "a ^ b", "~a & b", "a << c", "a >> c", "a ** c", "(a ^ b) >> c"]

# Over two bool arrays.
BOOL_BINARY = ["a & b", "a | b", "a ^ b", "a == b", "a != b", "where(a, b, ~b)", "(a & ~b) | (b & ~a)"]

# libm functions: one per expression, so the bound applies to it alone.
LIBM_UNARY = [f"{f}(a)" for f in LIBM_FUNCTIONS if f not in ("arctan2", "hypot")]
LIBM_BINARY = ["arctan2(a, b)", "hypot(a, b)", "a ** b"]
LIBM_LITERAL = ["a ** 2.5", "a ** 0.5", "a ** 3.0", "a ** -1.5"]

# Intended differences from numpy: (expression, dtypes) -> the exception
# class exprjit raises instead. See the differences table in README.md.
BOOL_ARITH = {"a + b", "a - b", "a * b", "a * 2 - b", "(a + b) * (a - b)", "a*b + a"}


def _cases():
    cases = []
    for ex, dt in itertools.product(EXACT_UNARY, NUMERIC):
        cases.append(pytest.param(ex, (dt,), "any", id=f"{ex}-{NAMES[dt]}"))
    for ex, dt in itertools.product(CAST_UNARY, NUMERIC):
        cases.append(pytest.param(ex, (dt,), "safe", id=f"{ex}-{NAMES[dt]}"))
    for ex in BOOL_UNARY:
        cases.append(pytest.param(ex, (np.bool_,), "any", id=f"{ex}-bool"))
    for ex, (da, db) in itertools.product(EXACT_BINARY, itertools.product(DTYPES, DTYPES)):
        if da == db == np.bool_:
            continue
        cases.append(pytest.param(ex, (da, db), "any", id=f"{ex}-{NAMES[da]}-{NAMES[db]}"))
    for ex, (da, db) in itertools.product(INT_BINARY, itertools.product(INTS, INTS)):
        cases.append(pytest.param(ex, (da, db), "any", id=f"{ex}-{NAMES[da]}-{NAMES[db]}"))
    for ex in BOOL_BINARY:
        cases.append(pytest.param(ex, (np.bool_, np.bool_), "any", id=f"{ex}-bool-bool"))
    return cases


def _bind(rng, dtypes, kind):
    names = "ab"[: len(dtypes)]
    env = {n: random_array(rng, dt, kind=kind) for n, dt in zip(names, dtypes)}
    env["c"] = random_array(rng, np.int32, kind="small")
    return env


def _reference(ex, env):
    with np.errstate(all="ignore"):
        return np.asarray(eval(ex, numpy_namespace(), dict(env)))


def _evaluate_twice(ex, env):
    """The cold call (multi-pass engine) and the warm one (fused kernel)."""
    first = exprjit.evaluate(ex, local_dict=env)
    second = exprjit.evaluate(ex, local_dict=env)
    return first, second


@pytest.mark.parametrize("ex,dtypes,kind", _cases())
def test_exact_against_numpy(ex, dtypes, kind, rng):
    env = _bind(rng, dtypes, kind)
    if ex in BOOL_ARITH and np.bool_ in dtypes and len(set(dtypes)) == 1:
        with pytest.raises(TypeError):
            exprjit.evaluate(ex, local_dict=env)
        return
    want = _reference(ex, env)
    # numpy gives +0 or -0 for maximum/minimum of zeros of both signs
    # depending on its SIMD path; exprjit returns the first operand.
    signed_zero = not any(f in ex for f in ("maximum", "minimum", "clip"))
    for run, got in zip(("cold", "warm"), _evaluate_twice(ex, env)):
        assert_same(got, want, signed_zero=signed_zero, what=f"{ex} {run}")


def _precise(env):
    """The variables in a wider float type: float32 -> float64, float64 ->
    long double. Integers are converted as exprjit (and numpy) convert them
    for a float function, to float64, and then widened."""
    out = {}
    for k, v in env.items():
        if v.dtype == np.float32:
            out[k] = v.astype(np.float64)
        elif v.dtype.kind in "fi":
            out[k] = v.astype(np.float64).astype(np.longdouble)
        else:
            out[k] = v
    return out


@pytest.fixture(params=["fast", "strict"])
def accuracy(request):
    before = exprjit.set_accuracy(request.param)
    yield request.param
    exprjit.set_accuracy(before)


def _libm_cases():
    cases = []
    for ex, dt in itertools.product(LIBM_UNARY, NUMERIC):
        cases.append(pytest.param(ex, (dt,), id=f"{ex}-{NAMES[dt]}"))
    for ex, dt in itertools.product(LIBM_LITERAL, FLOATS):
        cases.append(pytest.param(ex, (dt,), id=f"{ex}-{NAMES[dt]}"))
    pairs = [(np.float32, np.float32), (np.float64, np.float64), (np.float32, np.float64), (np.int32, np.float64), (np.int64, np.float32)]
    for ex, (da, db) in itertools.product(LIBM_BINARY, pairs):
        cases.append(pytest.param(ex, (da, db), id=f"{ex}-{NAMES[da]}-{NAMES[db]}"))
    return cases


@pytest.mark.parametrize("ex,dtypes", _libm_cases())
def test_libm_within_ulps(ex, dtypes, rng, accuracy):
    env = _bind(rng, dtypes, "any")
    if "**" in ex:  # keep powers finite and meaningful
        with np.errstate(all="ignore"):
            env["a"] = np.abs(env["a"])
            if "b" in env:
                env["b"] = (env["b"] % 7).astype(env["b"].dtype)
    want = _reference(ex, env)
    with np.errstate(all="ignore"):
        ref = eval(ex, numpy_namespace(), _precise(env))
    for run, got in zip(("cold", "warm"), _evaluate_twice(ex, env)):
        assert_same(got, want, ulps=LIBM_ULPS, ref=ref, what=f"{ex} {run}")


def test_case_count():
    """The suite is as large as its docstring says."""
    assert len(_cases()) + len(_libm_cases()) >= 600


@pytest.mark.parametrize("dt", FLOATS, ids=["f32", "f64"])
@pytest.mark.parametrize(
    "f,lo,hi", [("arccosh", 1.0, 1.01), ("arctanh", -1.0, -0.9), ("arctanh", -0.5, 0.5), ("arcsinh", 1e30, 3e38)]
)
def test_inverse_hyperbolic_near_edges(f, lo, hi, dt, rng, accuracy):
    """Where the inverse hyperbolic functions are hardest."""
    a = rng.uniform(lo, hi, 4096).astype(dt)
    wide = np.float64 if dt == np.float32 else np.longdouble
    want = getattr(np, f)(a)
    ref = getattr(np, f)(a.astype(wide))
    for _ in range(2):
        assert_same(exprjit.evaluate(f"{f}(a)"), want, ulps=LIBM_ULPS, ref=ref, what=f)


def test_accuracy_setting():
    assert exprjit.get_accuracy() == "fast"
    assert exprjit.set_accuracy("strict") == "fast"
    assert exprjit.get_accuracy() == "strict"
    assert exprjit.set_accuracy("fast") == "strict"
    with pytest.raises(ValueError):
        exprjit.set_accuracy("sloppy")
