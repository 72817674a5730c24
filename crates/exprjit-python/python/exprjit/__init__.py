"""exprjit: numexpr's API over fused, JIT-compiled kernels.

Change one import::

    import exprjit as ne            # was: import numexpr as ne
    r = ne.evaluate("a*b + c")      # a, b, c from the caller's frame

Each expression is parsed and type checked once per set of operand dtypes
and compiled by Cranelift into one machine-code kernel that reads every
input element once and writes every output element once. numpy arrays are
read in place (any strides); the GIL is released while kernels run.

The expression is never evaluated as Python: exprjit has its own parser.
See the README of this package for where exprjit's results differ from
numexpr's (NumPy 2 promotion, exact division, ...).
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
import weakref
from typing import Any, Mapping, NamedTuple, Optional, Tuple

from . import _exprjit
from ._errors import (
    ArrayTooBigError,
    ExprjitError,
    ExprjitIndentationError,
    ExprjitMemoryError,
    ExprjitSyntaxError,
    ExprjitTypeError,
    ExprjitValueError,
    ForbiddenSyntaxError,
    InternalError,
    UnknownFunctionError,
    UnknownNameError,
    UnsupportedOperationError,
    UnsupportedSyntaxError,
    UnsupportedValueError,
)

__version__ = _exprjit.__version__
version = __version__

NumExpr = _exprjit.NumExpr
detect_number_of_cores = _exprjit.detect_number_of_cores
get_num_threads = _exprjit.get_num_threads
set_cache_size = _exprjit.set_cache_size
set_accuracy = _exprjit.set_accuracy
get_accuracy = _exprjit.get_accuracy

#: The number of cores of this machine (numexpr's ``ncores``).
ncores = detect_number_of_cores()

__all__ = [
    "evaluate",
    "re_evaluate",
    "validate",
    "NumExpr",
    "set_num_threads",
    "get_num_threads",
    "detect_number_of_cores",
    "cache_info",
    "cache_clear",
    "set_cache_size",
    "set_accuracy",
    "get_accuracy",
    "CacheInfo",
    "KernelInfo",
    "ExprjitError",
    "ExprjitSyntaxError",
    "ExprjitIndentationError",
    "ForbiddenSyntaxError",
    "UnsupportedSyntaxError",
    "UnknownNameError",
    "UnknownFunctionError",
    "ExprjitTypeError",
    "UnsupportedOperationError",
    "UnsupportedValueError",
    "ExprjitValueError",
    "ExprjitMemoryError",
    "ArrayTooBigError",
    "InternalError",
]

# numexpr keywords that mean nothing here (no optimisation levels;
# division is always true division).
_IGNORED = frozenset({"optimization", "truediv"})


def _check_kwargs(func: str, kwargs: Mapping[str, Any]) -> None:
    for k in kwargs:
        if k not in _IGNORED:
            raise TypeError(f"{func}() got an unexpected keyword argument '{k}'")


# Before Python 3.13 a function frame's `f_locals` is a snapshot dict that
# the frame keeps until it next refreshes it, holding every local alive
# (an array the caller `del`s included). Function frames: CO_OPTIMIZED.
_SNAPSHOT_LOCALS = sys.version_info < (3, 13)
_CO_OPTIMIZED = 0x0001


def _dicts(local_dict, global_dict, up):
    """numexpr's lookup: ``local_dict`` then ``global_dict``, each
    defaulting to the locals or globals of the frame ``up`` levels above
    the function that calls ``_dicts`` (1: that function's caller).

    Also returns whether ``local_dict`` is a function frame's locals
    snapshot (Python < 3.13), from which the native module then removes
    the names it read, as numexpr empties it, so that the snapshot holds no
    array alive (the frame refills it whenever `f_locals` is read again;
    module and class namespaces, which are `f_locals` themselves, are never
    touched)."""
    snapshot = False
    if local_dict is None or global_dict is None:
        frame = sys._getframe(up + 1)
        try:
            if local_dict is None:
                local_dict = frame.f_locals
                snapshot = _SNAPSHOT_LOCALS and bool(frame.f_code.co_flags & _CO_OPTIMIZED)
            if global_dict is None:
                global_dict = frame.f_globals
        finally:
            del frame
    return local_dict, global_dict, snapshot


class _Last(threading.local):
    """The last expression each thread evaluated, for ``re_evaluate``:
    ``(ex, out, order, casting)``, ``out`` held by a weak reference (or
    None), as numexpr holds it, so that the array is freed when its owner
    drops it."""

    call: Optional[Tuple[str, Any, str, str]] = None


_last = _Last()


def _weak(out):
    """A weak reference to ``out``, or None for no ``out``."""
    if out is None:
        return None
    try:
        return weakref.ref(out)
    except TypeError:  # an array type without weak references: keep it
        return lambda: out


def _strong(ref):
    """The ``out`` a ``_weak`` reference holds, or None if it was freed
    (then, as in numexpr, ``re_evaluate`` returns a new array)."""
    return None if ref is None else ref()


def evaluate(
    ex: str,
    local_dict: Optional[Mapping[str, Any]] = None,
    global_dict: Optional[Mapping[str, Any]] = None,
    out=None,
    order: str = "K",
    casting: str = "same_kind",
    sanitize: Optional[bool] = None,
    _frame_depth: int = 3,
    disable_cache: bool = False,
    **kwargs,
):
    """Evaluates the array expression ``ex``.

    Names in ``ex`` are looked up in ``local_dict``, then ``global_dict``;
    either defaults to the calling frame's locals or globals (a function
    that wraps ``evaluate`` passes ``_frame_depth=4``: numexpr's
    numbering). Values may be numpy arrays (bool, int32, int64, float32,
    float64 read in place with any strides; int8, int16, uint8, uint16,
    uint32, float16 widened first), numpy or Python scalars, 0-d arrays, or
    anything ``numpy.asarray`` accepts. Shapes broadcast as in numpy.

    ``out``, if given, receives the result (numpy's ``same_kind`` casting
    by default, or ``casting``) and is returned; it may be one of the
    inputs (``evaluate("a*2", out=a)``). ``order`` is the result's memory
    order: 'C', 'F', or 'K'/'A' (Fortran order when the inputs are).

    numexpr's ``sanitize``, ``disable_cache``, ``optimization`` and
    ``truediv`` keywords are accepted and ignored (there is no ``eval`` to
    sanitize; the kernel cache is bounded). Raises ``ExprjitSyntaxError``,
    ``UnknownNameError`` (a ``KeyError``), ``ExprjitTypeError`` or
    ``ExprjitValueError``, each with a caret under the culprit.
    """
    _check_kwargs("evaluate", kwargs)
    local_dict, global_dict, snapshot = _dicts(local_dict, global_dict, _frame_depth - 2)
    result = _exprjit.evaluate(ex, local_dict, global_dict, out, order, casting, snapshot)
    _last.call = (ex, _weak(out), order, casting)
    return result


def re_evaluate(
    local_dict: Optional[Mapping[str, Any]] = None,
    global_dict: Optional[Mapping[str, Any]] = None,
    _frame_depth: int = 2,
):
    """Evaluates the last expression this thread passed to ``evaluate`` or
    ``validate`` again, with the same ``out``, ``order`` and ``casting``,
    taking the variables' current values from ``local_dict`` or the
    caller's frame. The ``out`` is held weakly: once it has been freed,
    the result is a new array (numexpr's behaviour)."""
    call = _last.call
    if call is None:
        raise RuntimeError(
            "no previous evaluate() or validate() in this thread to re-evaluate"
        )
    ex, out, order, casting = call
    local_dict, global_dict, snapshot = _dicts(local_dict, global_dict, _frame_depth - 1)
    return _exprjit.evaluate(ex, local_dict, global_dict, _strong(out), order, casting, snapshot)


def validate(
    ex: str,
    local_dict: Optional[Mapping[str, Any]] = None,
    global_dict: Optional[Mapping[str, Any]] = None,
    out=None,
    order: str = "K",
    casting: str = "safe",
    _frame_depth: int = 2,
    sanitize: Optional[bool] = None,
    **kwargs,
) -> Optional[Exception]:
    """Checks that ``evaluate`` with these arguments would succeed, without
    running it: the expression parses and type checks for the variables'
    dtypes, their shapes broadcast, ``out`` fits. Returns None if so,
    else the exception ``evaluate`` would raise (numexpr's contract; as in
    numexpr, ``casting`` defaults to 'safe' here). On success,
    ``re_evaluate`` evaluates it."""
    _check_kwargs("validate", kwargs)
    try:
        local_dict, global_dict, snapshot = _dicts(local_dict, global_dict, _frame_depth - 1)
        _exprjit.validate(ex, local_dict, global_dict, out, order, casting, snapshot)
    except Exception as e:  # numexpr returns the exception
        return e
    _last.call = (ex, _weak(out), order, casting)
    return None


def set_num_threads(nthreads: int) -> int:
    """Sets the number of threads exprjit's kernels use; returns the
    previous number. Small arrays run on one thread regardless."""
    return _exprjit.set_num_threads(int(nthreads))


class KernelInfo(NamedTuple):
    """One cached kernel."""

    expr: str
    params: Tuple[str, ...]
    layouts: Tuple[str, ...]
    out: str
    compile_time: float
    code_size: int
    runs: int


class CacheInfo(NamedTuple):
    """The compile-cost cache's statistics (``functools``' first four
    fields, then exprjit's). Times are in seconds."""

    hits: int
    misses: int
    maxsize: int
    currsize: int
    evictions: int
    compile_time: float
    run_time: float
    multipass_runs: int
    kernels: Tuple[KernelInfo, ...]


def cache_info() -> CacheInfo:
    """Statistics of the compile-cost cache: hits and misses of kernel
    lookups, capacity and size, evictions, total compile and run time,
    evaluations run without a compiled kernel (cold calls on small arrays),
    and the cached kernels, most recently used first."""
    s = _exprjit.cache_stats()
    kernels = tuple(
        KernelInfo(
            k["expr"],
            tuple(k["params"]),
            tuple(k["layouts"]),
            k["out"],
            k["compile_time"],
            k["code_size"],
            k["runs"],
        )
        for k in s["kernels"]
    )
    return CacheInfo(
        s["hits"],
        s["misses"],
        s["capacity"],
        s["entries"],
        s["evictions"],
        s["compile_time"],
        s["run_time"],
        s["multipass_runs"],
        kernels,
    )


def cache_clear() -> None:
    """Drops every cached kernel and zeroes the statistics."""
    _exprjit.cache_clear()


def _threads_from_numexpr_env() -> None:
    """``NUMEXPR_NUM_THREADS`` stands in for ``EXPRJIT_NUM_THREADS`` (which
    the native module reads itself) when only the former is set."""
    if os.environ.get("EXPRJIT_NUM_THREADS"):
        return
    value = os.environ.get("NUMEXPR_NUM_THREADS")
    if not value:
        return
    try:
        n = int(value)
        if n < 1:
            raise ValueError
    except ValueError:
        warnings.warn(
            f"NUMEXPR_NUM_THREADS={value!r} is not a positive integer; ignored",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    set_num_threads(n)


_threads_from_numexpr_env()

# A forked child must not inherit a lock held by a thread that is inside a
# kernel (that thread does not exist in the child): fork waits for them.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_exprjit.before_fork)
