"""exprjit expressions as dask graphs: ``exprjit.dask.evaluate`` takes the
same expression as ``exprjit.evaluate``, with dask arrays (mixed with numpy
arrays and scalars) as variables, and returns a lazy dask array whose tasks
are exprjit kernels::

    import dask.array as da
    import exprjit.dask

    u = da.random.random((40_000, 40_000), chunks=4_000)
    step = exprjit.dask.evaluate(
        "u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)")

The graph is built from the expression's structure as exprjit's own parser
and type checker see it (``_exprjit.structure``): the result's dtype and
shape (so ``dtype`` and ``meta`` are known without calling anything on
dummy arrays), the reductions and the halo its rolls need. Every error
``exprjit.evaluate`` would raise for these dtypes and shapes (syntax,
unknown names, types, shapes that do not broadcast, axes out of range,
``min``/``max``/``mean`` of nothing) is raised by ``evaluate`` while the
graph is built, with exprjit's caret under the culprit.

How the parts of an expression become tasks:

* Elementwise: one ``blockwise`` task per output chunk, the whole
  expression fused into one kernel; chunks are unified as dask unifies
  them and shapes broadcast by numpy's rules.
* ``roll``: periodic, as on the whole array. The halo a block needs (per
  axis, the largest total ``|shift|`` of a variable, each shift taken
  modulo the axis length into ``(-len/2, len/2]``) is exchanged once per
  expression, however many rolls it has: each array variable is
  overlapped with periodic boundaries, one ``blockwise`` kernel evaluates
  the expression on the extended blocks, and the halos are trimmed. When a
  chunk is thinner than the halo, that axis is first rechunked (existing
  chunks merged until each is at least the halo deep); when the halo is at
  least the axis length, that axis becomes one chunk. An axis that already
  is one chunk needs no halo.
* Reductions, anywhere in the expression (``a - mean(a)``,
  ``sum(x, axis=1)``, ``sqrt(sum(v*v))``): a dask reduction tree
  (``dask.array.reduction``). Its chunk step is one exprjit kernel per
  input chunk that fuses the reduction's argument (``sum(v*v)`` reads each
  block of ``v`` once); its combine and aggregate steps are exprjit
  reductions of the partial results (``mean``: a sum, divided by the
  element count at the end). The reduction's value then enters the rest
  of the expression as a (broadcast) dask array.

What does not depend on the chunking: results of elementwise expressions
and rolls are exactly those of ``exprjit.evaluate`` on the whole arrays.
Integer and bool ``sum`` and ``prod`` (integer arithmetic wraps, and
wrapping addition and multiplication are associative), ``any``, ``all``,
``min`` and ``max`` are exactly equal whatever the chunks and the tree's
shape. Float ``sum``, ``prod`` and ``mean`` are not: exprjit's own
reductions are bit-identical whatever its thread count or tile size on one
array, but here partial results are folded per chunk and then combined
along dask's tree, so the rounding depends on the chunks and on
``split_every`` (the usual few ULP of a reordered floating-point sum).

Kernels: each task calls ``exprjit.evaluate`` on its blocks, so each
worker process compiles each (expression, dtypes) pair once and keeps it
in exprjit's kernel cache. On a ``dask.distributed`` worker, the first
task sets exprjit's thread count to ``cores // dask threads on that host``
(at least 1), so that dask's threads times exprjit's threads does not
exceed the cores; in the client's own process (dask's local schedulers)
exprjit's setting is left as it is.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

import dask.array as da
from dask.array import overlap as _overlap

from . import _check_kwargs, _dicts, _exprjit
from . import evaluate as _evaluate
from . import detect_number_of_cores, set_num_threads

__all__ = ["evaluate", "validate"]

# --------------------------------------------------------------------------
# Worker side: the kernels dask calls.

_cap_lock = threading.Lock()
_capped = False


def _cap_threads(host_threads: Optional[Mapping[str, int]]) -> None:
    """Once per process, on a distributed worker: exprjit threads =
    cores // (dask threads of every worker on this host), at least 1."""
    global _capped
    if _capped:
        return
    with _cap_lock:
        if _capped:
            return
        _capped = True
        try:
            from distributed import get_worker
            from distributed.comm import get_address_host

            worker = get_worker()
        except (ImportError, ValueError):
            return  # not in a distributed worker: leave the setting alone
        n = None
        if host_threads:
            n = host_threads.get(get_address_host(worker.address))
        if not n:
            state = getattr(worker, "state", None)
            n = getattr(state, "nthreads", None) or getattr(worker, "nthreads", 1)
        set_num_threads(max(1, detect_number_of_cores() // max(1, int(n))))


class _Kernel:
    """Evaluates ``text`` on one block per array variable (``names``, in
    the order dask passes the blocks) and the fixed ``scalars``; ``ndim``,
    if not None, reshapes a full reduction's 0-d result to ``(1,)*ndim``
    (the keepdims layout of a dask reduction's partial result)."""

    def __init__(
        self,
        text: str,
        names: Sequence[str],
        scalars: Mapping[str, Any],
        host_threads: Optional[Mapping[str, int]],
        ndim: Optional[int] = None,
    ):
        self.text = text
        self.names = tuple(names)
        self.scalars = dict(scalars)
        self.host_threads = host_threads
        self.ndim = ndim

    def __call__(self, *blocks):
        _cap_threads(self.host_threads)
        d = dict(self.scalars)
        d.update(zip(self.names, blocks))
        r = _evaluate(self.text, local_dict=d, global_dict={})
        if self.ndim is not None:
            r = np.asarray(r).reshape((1,) * self.ndim)
        return r

    def __repr__(self) -> str:  # what dask's dashboard shows
        return f"exprjit({self.text!r})"

    def __dask_tokenize__(self):
        return ("exprjit-kernel", self.text, self.names, sorted(self.scalars.items()), self.ndim)


class _Fold:
    """A dask reduction's combine or aggregate step: ``op`` of the
    partial results along ``axes`` (keepdims layout), divided by
    ``divide`` if given (``mean``'s aggregate)."""

    def __init__(self, op: str, axes: Tuple[int, ...], ndim: int, divide, host_threads):
        self.op, self.axes, self.ndim, self.divide = op, axes, ndim, divide
        self.host_threads = host_threads

    def __repr__(self) -> str:  # dask names the tree's layers by it
        return f"exprjit-{self.op}"

    def __dask_tokenize__(self):
        return ("exprjit-fold", self.op, self.axes, self.ndim, self.divide)

    def __call__(self, x, axis=None, keepdims=True, computing_meta=False):
        if computing_meta:
            return x
        _cap_threads(self.host_threads)
        if len(self.axes) == 1 and self.ndim > 1:
            text = f"{self.op}(p, axis={self.axes[0]}, keepdims=True)"
        else:
            text = f"{self.op}(p)"
        if self.divide is not None:
            text = f"{text} / {self.divide}"
        r = _evaluate(text, local_dict={"p": x}, global_dict={})
        return np.asarray(r).reshape(
            tuple(1 if i in self.axes else n for i, n in enumerate(x.shape))
        )


def _identity(x, axis=None, keepdims=True, computing_meta=False):
    """The chunk step of the reduction tree: the partial results are
    already computed (fused with the argument) by a ``_Kernel``."""
    return x


# --------------------------------------------------------------------------
# Client side: from the expression's structure to a graph.


def _is_dask(v) -> bool:
    return isinstance(v, da.Array)


def _spec(v) -> Tuple[Any, Tuple[int, ...]]:
    if not _is_dask(v):
        v = np.asarray(v)  # Python scalars: numpy's default dtypes, as evaluate binds them
    shape = tuple(v.shape)
    if any(not isinstance(n, (int, np.integer)) or n != n for n in shape):
        raise ValueError(
            "exprjit.dask needs known chunk sizes; call .compute_chunk_sizes() first"
        )
    return v.dtype, tuple(int(n) for n in shape)


def _structure(text: str, env: Mapping[str, Any]) -> Dict[str, Any]:
    """exprjit's structure of ``text`` for the variables of ``env`` that
    it names (the rest are constants, or exprjit's unknown-name error)."""
    names = _exprjit.expression_names(text)
    spec = {n: _spec(env[n]) for n in names if n in env}
    return _exprjit.structure(text, spec)


def _host_threads() -> Optional[Dict[str, int]]:
    """Dask threads per host of the default distributed client's workers
    (None without one)."""
    try:
        from distributed import default_client
        from distributed.comm import get_address_host

        client = default_client()
    except (ImportError, ValueError):
        return None
    out: Dict[str, int] = {}
    for addr, n in client.nthreads().items():
        host = get_address_host(addr)
        out[host] = out.get(host, 0) + int(n)
    return out


class _Builder:
    def __init__(self, split_every, host_threads):
        self.split_every = split_every
        self.host_threads = host_threads
        self.fresh = itertools.count()

    def name(self, env: Mapping[str, Any]) -> str:
        while True:
            n = f"_xj_{next(self.fresh)}"
            if n not in env:
                return n

    # -- the whole expression -------------------------------------------
    def lower(self, text: str, env: Mapping[str, Any], st=None):
        """A dask array for ``text``: its reductions first (each becomes a
        variable), then the elementwise/roll rest."""
        if st is None:
            st = _structure(text, env)
        if not st["reductions"]:
            return self.elementwise(text, st, env)
        env = dict(env)
        edits = []
        for r in st["reductions"]:
            n = self.name(env)
            env[n] = self.reduce(r, text, env)
            edits.extend((lo, hi, n) for lo, hi in r["spans"])
        for lo, hi, n in sorted(edits, reverse=True):
            text = text[:lo] + n + text[hi:]
        return self.lower(text, env)

    # -- elementwise and rolls ------------------------------------------
    def split(self, st, env):
        """The array variables (as dask arrays) and the scalars of ``st``."""
        arrays: Dict[str, da.Array] = {}
        scalars: Dict[str, Any] = {}
        for n in st["variables"]:
            if n not in env:
                continue
            v = env[n]
            if _is_dask(v):
                arrays[n] = v
            elif np.ndim(v) == 0:
                scalars[n] = v
            else:
                a = np.asarray(v)
                arrays[n] = da.from_array(a, chunks=a.shape)
        return arrays, scalars

    def elementwise(self, text: str, st, env):
        shape = tuple(st["shape"])
        ndim = len(shape)
        dtype = np.dtype(st["dtype"])
        meta = np.empty((0,) * ndim, dtype=dtype)
        arrays, scalars = self.split(st, env)
        if not arrays:  # scalars only: nothing to distribute
            r = _evaluate(text, local_dict=dict(scalars), global_dict={})
            return da.from_array(np.asarray(r))
        names = list(arrays)
        inds = {n: tuple(range(ndim - arrays[n].ndim, ndim)) for n in names}
        depth = [int(d) for d in st["depth"]] if st["rolled"] else [0] * ndim
        block_text = st["block_text"]
        trim: Dict[int, int] = {}
        if any(depth):
            chunkss, _ = da.core.unify_chunks(*itertools.chain(*((arrays[n], inds[n]) for n in names)))
            for axis in range(ndim):
                d = depth[axis]
                length = shape[axis]
                chunks = tuple(chunkss.get(axis, (length,)))
                if d == 0 or len(chunks) <= 1:
                    continue
                if d >= length:
                    new = (length,)
                else:
                    new = _at_least(chunks, d)
                    if len(new) > 1:
                        trim[axis] = d
                for n in names:
                    a = arrays[n]
                    local = axis - (ndim - a.ndim)
                    if local >= 0 and a.shape[local] == length:
                        arrays[n] = a.rechunk({local: new})
            if trim:
                for n in names:
                    a = arrays[n]
                    dd = {}
                    for axis, d in trim.items():
                        local = axis - (ndim - a.ndim)
                        if local >= 0 and a.shape[local] == shape[axis]:
                            dd[local] = d
                    if dd:
                        arrays[n] = _overlap.overlap(
                            a, depth=dd, boundary={k: "periodic" for k in dd}, allow_rechunk=False
                        )
        kernel = _Kernel(block_text, names, scalars, self.host_threads)
        args = itertools.chain(*((arrays[n], inds[n]) for n in names))
        r = da.blockwise(
            kernel,
            tuple(range(ndim)),
            *args,
            dtype=dtype,
            meta=meta,
            token="exprjit",
        )
        if trim:
            r = _overlap.trim_internal(r, trim, boundary={k: "periodic" for k in trim})
        return r

    # -- reductions -------------------------------------------------------
    def reduce(self, r, text: str, env):
        """A dask array for one reduction ``r`` of ``text`` (its shape
        ``r["shape"]``)."""
        lo, hi = r["input"]
        arg = text[lo:hi]
        ist = _structure(arg, env)
        if ist["reductions"] or (ist["rolled"] and any(ist["depth"])):
            x = self.lower(arg, env, ist)
            env = {"x": x}
            arg = "x"
            ist = _structure(arg, env)
        op = r["op"]
        ndim = len(r["input_shape"])
        in_dtype = np.dtype(r["input_dtype"])
        if ndim == 0:
            return self.elementwise(f"{op}({arg})", _structure(f"{op}({arg})", env), env)
        axes = tuple(range(ndim)) if r["axis"] is None else (int(r["axis"]),)
        fold = "sum" if op == "mean" else op
        if op == "mean" and in_dtype.kind in "biu":
            arg = f"float64({arg})"
        if len(axes) == 1 and ndim > 1:
            chunk_text = f"{fold}({arg}, axis={axes[0]}, keepdims=True)"
            reshape = None
        else:
            chunk_text = f"{fold}({arg})"
            reshape = ndim
        cst = _structure(chunk_text, env)
        part_dtype = np.dtype(cst["dtype"])
        arrays, scalars = self.split(ist, env)
        names = list(arrays)
        inds = {n: tuple(range(ndim - arrays[n].ndim, ndim)) for n in names}
        kernel = _Kernel(chunk_text, names, scalars, self.host_threads, ndim=reshape)
        partials = da.blockwise(
            kernel,
            tuple(range(ndim)),
            *itertools.chain(*((arrays[n], inds[n]) for n in names)),
            dtype=part_dtype,
            meta=np.empty((0,) * ndim, dtype=part_dtype),
            adjust_chunks={a: 1 for a in axes},
            token="exprjit-partial",
        )
        # A broadcast (length-1) axis of every variable gives a 1-long
        # axis with one chunk: nothing to adjust.
        count = None
        if op == "mean":
            count = int(np.prod([r["input_shape"][a] for a in axes], dtype=np.int64))
        out_dtype = np.dtype(r["dtype"])
        res = da.reduction(
            partials,
            chunk=_identity,
            combine=_Fold(fold, axes, ndim, None, self.host_threads),
            aggregate=_Fold(fold, axes, ndim, count, self.host_threads),
            axis=axes,
            keepdims=True,
            dtype=out_dtype,
            split_every=self.split_every,
            concatenate=True,
            meta=np.empty((0,) * ndim, dtype=out_dtype),
        )
        want = tuple(r["shape"])
        if res.shape != want:
            res = res.squeeze(axis=axes)
        return res


def _at_least(chunks: Sequence[int], d: int) -> Tuple[int, ...]:
    """``chunks`` with neighbours merged until every chunk is at least
    ``d`` long (``d`` below their sum)."""
    out: List[int] = []
    acc = 0
    for c in chunks:
        acc += c
        if acc >= d:
            out.append(acc)
            acc = 0
    if acc:
        if out:
            out[-1] += acc
        else:
            out.append(acc)
    return tuple(out)


def _env(ex: str, local_dict, global_dict) -> Dict[str, Any]:
    """The values of the names ``ex`` uses (``local_dict`` first)."""
    env: Dict[str, Any] = {}
    for n in _exprjit.expression_names(ex):
        if n in local_dict:
            v = local_dict[n]
        elif n in global_dict:
            v = global_dict[n]
        else:
            continue
        if not _is_dask(v) and not isinstance(v, (bool, int, float, np.ndarray, np.generic)):
            v = np.asarray(v)
        env[n] = v
    return env


def evaluate(
    ex: str,
    local_dict: Optional[Mapping[str, Any]] = None,
    global_dict: Optional[Mapping[str, Any]] = None,
    split_every=None,
    _frame_depth: int = 2,
    **kwargs,
):
    """The lazy dask array of ``ex`` (a 0-d dask array for a full
    reduction), with names looked up as ``exprjit.evaluate`` looks them
    up (``local_dict``, then ``global_dict``, each defaulting to the
    caller's frame). Variables may be dask arrays, numpy arrays and
    scalars. ``split_every`` is passed to dask's reduction trees. Raises
    exprjit's errors (with the caret) while building the graph."""
    _check_kwargs("evaluate", kwargs)
    local_dict, global_dict, _ = _dicts(local_dict, global_dict, _frame_depth - 1)
    env = _env(ex, local_dict, global_dict)
    st = _structure(ex, env)
    return _Builder(split_every, _host_threads()).lower(ex, env, st)


def validate(
    ex: str,
    local_dict: Optional[Mapping[str, Any]] = None,
    global_dict: Optional[Mapping[str, Any]] = None,
    _frame_depth: int = 2,
    **kwargs,
) -> Optional[Exception]:
    """None if ``evaluate`` would build a graph for ``ex`` with these
    variables, else the exception it would raise (numexpr's contract)."""
    _check_kwargs("validate", kwargs)
    try:
        local_dict, global_dict, _ = _dicts(local_dict, global_dict, _frame_depth - 1)
        _structure(ex, _env(ex, local_dict, global_dict))
    except Exception as e:  # numexpr returns the exception
        return e
    return None
