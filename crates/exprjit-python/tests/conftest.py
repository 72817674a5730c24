"""Shared helpers of the exprjit Python tests: random data of every dtype,
array layouts, and result comparison (NaN positions must match; values
bit-exact, or within a stated ULP bound against a more precise reference).
"""

from __future__ import annotations

import numpy as np
import pytest

try:  # optional: the differential tests against numexpr
    import numexpr
except ImportError:  # pragma: no cover - depends on the environment
    numexpr = None

#: exprjit's dtypes.
DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]
NUMERIC = [np.int32, np.int64, np.float32, np.float64]
FLOATS = [np.float32, np.float64]
INTS = [np.int32, np.int64]

#: The bound for libm functions (exp, sin, pow, hypot, ...), in units in
#: the last place of the result dtype, against the correctly rounded
#: result. 2 for now: a vectorised math library with a <= 2 ULP bound is
#: being added; glibc's scalar functions (used today) are within 1.
LIBM_ULPS = 2

#: Functions whose results come from libm, not IEEE-exact operations.
LIBM_FUNCTIONS = (
    "exp expm1 log log1p log10 log2 sin cos tan arcsin arccos arctan sinh cosh tanh "
    "arcsinh arccosh arctanh arctan2 hypot"
).split()

_SPECIAL_F = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -2.5, 1e-30, 3e38, -7e30]


def random_array(rng: np.random.Generator, dtype, n: int = 257, kind: str = "any") -> np.ndarray:
    """``n`` values of ``dtype``: mostly ordinary values, some special ones
    (signed zeros, infinities, NaN, extremes). ``kind='safe'`` gives finite
    floats within +-1e9 (for float-to-int casts); ``'small'`` gives
    integers in 0..4 (exponents, shift counts stay tame)."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(n) < 0.5
    if dtype.kind == "i":
        if kind == "small":
            return rng.integers(0, 5, n).astype(dtype)
        info = np.iinfo(dtype)
        a = rng.integers(-1000, 1000, n).astype(dtype)
        if kind == "any":
            k = max(1, n // 16)
            idx = rng.choice(n, size=k, replace=False)
            a[idx] = rng.choice(np.array([0, -1, 1, info.min, info.max, info.min + 1], dtype=dtype), size=k)
        return a
    if kind == "safe":
        return (rng.standard_normal(n) * 1e3).astype(dtype)
    a = (rng.standard_normal(n) * 10.0).astype(dtype)
    k = max(1, n // 8)
    idx = rng.choice(n, size=k, replace=False)
    with np.errstate(over="ignore"):
        a[idx] = np.array(rng.choice(_SPECIAL_F, size=k), dtype=dtype)
    return a


def ordered(x: np.ndarray) -> np.ndarray:
    """Float bits as integers ordered like the floats (+0 and -0 both 0)."""
    if x.dtype == np.float32:
        i = x.view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    i = x.view(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFFFFFFFFFF), i)


def ulp_distance(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """How many representable floats lie between ``got`` and ``want`` (both
    of one float dtype, no NaNs); opposite signs count as far apart."""
    a, b = ordered(got), ordered(want)
    same_side = (np.sign(a) == np.sign(b)) | (a == 0) | (b == 0)
    d = np.abs(np.where(same_side, a, 0) - np.where(same_side, b, 0))
    return np.where(same_side, d, np.iinfo(np.int64).max)


def assert_same(got, want, *, ulps: int = 0, ref=None, signed_zero: bool = True, what: str = "") -> None:
    """Asserts ``got`` equals ``want``: same shape and dtype, NaN in the same
    places, other elements bit-exact (``signed_zero=False``: +0 == -0).

    With ``ulps > 0``, float elements may be up to ``ulps`` units in the
    last place from ``ref`` (a more precise reference) rounded to the
    result dtype, and ``want`` only supplies shape, dtype and NaNs."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind != "f":
        bad = got != want
        assert not bad.any(), f"{what}: {bad.sum()} differ, e.g. got {got[bad][:5]} want {want[bad][:5]}"
        return
    if ulps:
        with np.errstate(all="ignore"):
            want = np.asarray(ref).astype(want.dtype)
    gn, wn = np.isnan(got), np.isnan(want)
    bad = gn != wn
    assert not bad.any(), (
        f"{what}: NaN positions differ at {np.flatnonzero(bad)[:5]}: got {got[bad][:5]} want {want[bad][:5]}"
    )
    g, w = got[~gn], want[~wn]
    if ulps:
        inf = np.isinf(g) | np.isinf(w)
        bad_inf = inf & (g != w)
        assert not bad_inf.any(), f"{what}: infinities differ: got {g[bad_inf][:5]} want {w[bad_inf][:5]}"
        d = ulp_distance(g[~inf], w[~inf])
        worst = int(d.max()) if d.size else 0
        assert worst <= ulps, (
            f"{what}: {worst} ULP from the correctly rounded result (bound {ulps}); "
            f"got {g[~inf][d > ulps][:5]} want {w[~inf][d > ulps][:5]}"
        )
        return
    # Equal values of equal sign are equal bits (NaNs were removed).
    bad = g != w
    if signed_zero:
        bad |= np.signbit(g) != np.signbit(w)
    assert not bad.any(), f"{what}: {bad.sum()} differ, e.g. got {g[bad][:5]} want {w[bad][:5]}"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def numpy_namespace(cast=None) -> dict:
    """The reference meaning of exprjit's functions, for ``eval`` of the
    tests' own expression strings (never of user input). ``cast`` maps
    float results of libm functions to a more precise dtype."""
    ns = {
        name: getattr(np, name)
        for name in (
            "where abs sqrt exp expm1 log log1p log10 log2 sin cos tan arcsin arccos arctan "
            "arctan2 sinh cosh tanh arcsinh arccosh arctanh floor ceil trunc sign signbit "
            "isnan isinf isfinite fmod hypot copysign nextafter maximum minimum clip"
        ).split()
    }
    ns["round"] = np.round
    ns.update(pi=np.pi, e=np.e, inf=np.inf, nan=np.nan)
    for name, dt in [("bool", np.bool_), ("int32", np.int32), ("int64", np.int64), ("float32", np.float32), ("float64", np.float64)]:
        ns[name] = lambda x, dt=dt: np.asarray(x).astype(dt)
    ns["__builtins__"] = {"True": True, "False": False}
    return ns


class _RaisingArray:
    """An operand whose conversion fails as numpy's own would."""

    def __array__(self, dtype=None, copy=None):
        raise ValueError("no array here")


def rejected_env() -> dict:
    """The variables of ``REJECTED``."""
    return {
        "a": np.arange(3.0),
        "b": np.arange(3.0),
        "c": np.arange(3.0),
        "c4": np.arange(4.0),
        "i": np.arange(3),
        "i32": np.arange(3, dtype=np.int32),
        "flags": np.array([True, False, True]),
        "s": np.array(["x", "y", "z"]),
        "by": np.array([b"x", b"y", b"z"]),
        "o": np.array([1, None, 2], dtype=object),
        "none": None,
        "big": 2**70,
        "dt": np.arange(3).astype("datetime64[s]"),
        "rec": np.zeros(3, dtype=[("p", "f8")]),
        "ragged": [[1.0], [1.0, 2.0]],
        "raising": _RaisingArray(),
    }


#: Inputs exprjit and numexpr both reject, with the exprjit class expected
#: (test_errors.py) and compared live with numexpr's
#: (test_numexpr_compat.py): exprjit's exception must be an instance of the
#: class numexpr raises.
REJECTED = [
    # numexpr's sanitizer: ValueError.
    ("a[0]", "ForbiddenSyntaxError"),
    ("a[::2]", "ForbiddenSyntaxError"),
    ("__import__('os')", "ForbiddenSyntaxError"),
    ("lambda: 1", "ForbiddenSyntaxError"),
    ("a.T", "ForbiddenSyntaxError"),
    ("a.sum()", "ForbiddenSyntaxError"),
    ("a.b.c", "ForbiddenSyntaxError"),
    ("a; b", "ForbiddenSyntaxError"),
    ("a:b", "ForbiddenSyntaxError"),
    ("[a]", "ForbiddenSyntaxError"),
    ("'abc'", "ForbiddenSyntaxError"),
    # Python syntax numexpr cannot build: TypeError.
    ("a and b", "UnsupportedSyntaxError"),
    ("a or b", "UnsupportedSyntaxError"),
    ("not a", "UnsupportedSyntaxError"),
    ("a if b else c", "UnsupportedSyntaxError"),
    ("a < b < c", "UnsupportedSyntaxError"),
    ("(a, b)", "UnsupportedSyntaxError"),
    ("{a}", "UnsupportedSyntaxError"),
    ("a @ b", "UnsupportedSyntaxError"),
    ("None", "UnknownFunctionError"),
    ("a == None", "UnknownFunctionError"),
    # Unknown functions: TypeError; unknown variables: KeyError.
    ("foo(a)", "UnknownFunctionError"),
    ("frobnicate(a, b)", "UnknownFunctionError"),
    ("d + a", "UnknownNameError"),
    # Wrong argument counts: NotImplementedError, or TypeError.
    ("sin(a, b)", "UnsupportedOperationError"),
    ("arctan2(a)", "UnsupportedOperationError"),
    ("round(a, 2)", "UnsupportedOperationError"),
    ("sin()", "ExprjitTypeError"),
    ("where(a, b)", "ExprjitTypeError"),
    ("sum(a, 0, 1)", "ExprjitTypeError"),
    ("sin(a, foo=1)", "ExprjitTypeError"),
    # Operators on dtypes they do not take: NotImplementedError.
    ("a & b", "UnsupportedOperationError"),
    ("a | b", "UnsupportedOperationError"),
    ("~a", "UnsupportedOperationError"),
    ("a << b", "UnsupportedOperationError"),
    ("i << a", "UnsupportedOperationError"),
    ("-flags", "UnsupportedOperationError"),
    # Values exprjit cannot bind: ValueError (TypeError for byte strings).
    ("s + a", "UnsupportedValueError"),
    ("by + a", "UnsupportedValueError"),
    ("o + a", "UnsupportedValueError"),
    ("none + a", "UnsupportedValueError"),
    ("big + a", "UnsupportedValueError"),
    ("dt + a", "UnsupportedValueError"),
    ("rec + a", "UnsupportedValueError"),
    # numpy's own exception from converting a value, unchanged.
    ("ragged + a", "ValueError"),
    ("raising + a", "ValueError"),
    # Values and shapes: ValueError.
    ("a + c4", "ExprjitValueError"),
    ("i ** -1", "ExprjitValueError"),
    ("sum(a, axis=5)", "ExprjitValueError"),
    # Text that does not parse: SyntaxError.
    ("a +", "ExprjitSyntaxError"),
    ("a +* b", "ExprjitSyntaxError"),
    ("1 2", "ExprjitSyntaxError"),
    ("a = 1", "ExprjitSyntaxError"),
    ("$a", "ExprjitSyntaxError"),
    ("a\0", "ExprjitSyntaxError"),
    ("", "ExprjitSyntaxError"),
    ("   ", "ExprjitIndentationError"),
    # Not a string: ValueError.
    (3, "UnsupportedValueError"),
    (b"a + 1", "UnsupportedValueError"),
    (None, "UnsupportedValueError"),
]
