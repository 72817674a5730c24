//! Evaluates a program's reductions into arrays: binds each reduction's
//! input, plans it with the reduced axis last, and folds its values in the
//! blocks `exprjit_ir::semantics` defines, in one of three ways that give
//! the same bits: fused (the input's kernel writes one block at a time
//! into a scratch buffer, which is folded at once; blocks in parallel on
//! the pool), multi-pass (the input materialised, then folded, as numpy
//! does) or in the reference interpreter.

use crate::exec::{self, Input};
use crate::plan::{Plan, Source};
use crate::{
    Array, Bound, DType, Data, Elem, ElementsMut, Engine, Error, ErrorKind, Operand, Options, Vars,
    View, alloc_result, bind, bytes_to_array, cache, data_target, fused_kernel, multipass,
    num_threads, plan_error, pool, resolve_param_rolls, scalar_bytes, shape_error, strategy,
};
use exprjit_codegen::{Kernel, Operand as KOperand, Output as KOutput};
use exprjit_ir::array::shape_len;
use exprjit_ir::semantics::{Fold, REDUCE_BLOCK, fold_block, fold_partials};
use exprjit_ir::{InstKind, Program, ReduceOp, Reduction, interp};
use rayon::prelude::*;
use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What reductions read and how they run.
pub(crate) struct Scope<'s, 'a> {
    pub vars: &'s Vars<'a>,
    /// The in-place target: its name, dtype and current contents (read by
    /// reductions before the main function overwrites them).
    pub target: Option<(&'s str, DType, &'s [u8])>,
    pub text: &'s str,
    /// The environment the expression was checked in (for cache keys).
    pub env: &'s dyn exprjit_ir::Env,
    pub opts: &'s Options,
    /// How often the whole expression has been seen (for the engine).
    pub sightings: u32,
}

/// What the reductions of a call did, for its [`crate::Trace`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Parts {
    pub run_time: Duration,
    /// The most threads one reduction used.
    pub threads: usize,
    /// Elements of all reductions' inputs.
    pub elements: usize,
    /// Fused reductions whose kernel was compiled by this call.
    pub misses: usize,
    /// The largest reduction: its elements, engine and tile (values per
    /// parallel task).
    pub largest: usize,
    pub engine: Option<Engine>,
    pub tile: usize,
}

/// Evaluates the reductions of `program` (each input's own reductions
/// first), in order; returns each result under its parameter name.
pub(crate) fn evaluate(
    program: &Program,
    scope: &Scope<'_, '_>,
    parts: &mut Parts,
) -> Result<Vec<(String, Array)>, Error> {
    let mut out = Vec::with_capacity(program.reductions.len());
    for r in &program.reductions {
        let inner = evaluate(&r.input, scope, parts)?;
        let result = reduce(r, &inner, scope, parts)?;
        out.push((r.name.clone(), result));
    }
    Ok(out)
}

/// The reduction whose result `program` returns unchanged, if that is all
/// its main function does (`sum(x)`).
pub(crate) fn passthrough(program: &Program) -> Option<&str> {
    let main = &program.main;
    match (main.insts.as_slice(), main.params.as_slice()) {
        ([inst], [p]) if inst.kind == InstKind::Param(0) && p.rolls.is_empty() => program
            .reduction(&p.name)
            .filter(|r| r.dtype() == main.result_dtype())
            .map(|r| r.name.as_str()),
        _ => None,
    }
}

/// The operand a parameter of a reduction's input is bound to.
fn operand_of<'s>(
    name: &str,
    inner: &'s [(String, Array)],
    scope: &'s Scope<'_, '_>,
) -> Result<Operand<'s>, Error> {
    if let Some((_, a)) = inner.iter().find(|(n, _)| n == name) {
        return Ok(Operand::Array(Cow::Borrowed(a)));
    }
    if let Some((t, dtype, bytes)) = scope.target
        && t == name
    {
        return target_operand(dtype, bytes);
    }
    match scope.vars.get(name) {
        Some(op) => Ok(crate::reborrow(op)),
        None => Err(exec::internal(format!("'{name}' is unbound"))),
    }
}

/// The in-place target's current contents as a 1-d operand.
fn target_operand(dtype: DType, bytes: &[u8]) -> Result<Operand<'_>, Error> {
    let cast = |e: bytemuck::PodCastError| exec::internal(format!("in-place target: {e}"));
    Ok(match dtype {
        DType::Bool => Operand::Array(Cow::Owned(bytes_to_array(bytes, DType::Bool))),
        DType::I32 => Operand::View(View::from_slice::<i32>(
            bytemuck::try_cast_slice(bytes).map_err(cast)?,
        )),
        DType::I64 => Operand::View(View::from_slice::<i64>(
            bytemuck::try_cast_slice(bytes).map_err(cast)?,
        )),
        DType::F32 => Operand::View(View::from_slice::<f32>(
            bytemuck::try_cast_slice(bytes).map_err(cast)?,
        )),
        DType::F64 => Operand::View(View::from_slice::<f64>(
            bytemuck::try_cast_slice(bytes).map_err(cast)?,
        )),
    })
}

/// One reduction, its input's own reductions bound from `inner`.
fn reduce(
    r: &Reduction,
    inner: &[(String, Array)],
    scope: &Scope<'_, '_>,
    parts: &mut Parts,
) -> Result<Array, Error> {
    let text = scope.text;
    let opts = scope.opts;
    let func = &r.input.main;
    let dtype = r.dtype();

    // Bind the input's parameters and find its shape and the axis.
    let ops: Vec<Operand<'_>> = func
        .params
        .iter()
        .map(|p| operand_of(&p.name, inner, scope))
        .collect::<Result<_, _>>()?;
    let scalars: Vec<[u8; 8]> = ops
        .iter()
        .map(|op| match op {
            Operand::Scalar(s) => scalar_bytes(*s),
            _ => [0; 8],
        })
        .collect();
    let bound: Vec<Bound<'_>> = ops.iter().zip(&scalars).map(|(o, s)| bind(o, s)).collect();
    let shapes: Vec<&[usize]> = bound.iter().map(|b| b.shape.as_slice()).collect();
    let rolls = resolve_param_rolls(func, &shapes, text)?;
    let shape = exprjit_ir::shape::broadcast(shapes.iter().copied())
        .map_err(|i| shape_error(func, &shapes, i, text))?;
    let axis = r.resolve_axis(shape.len()).map_err(|b| b.error(text))?;
    let out_shape = r.result_shape(&shape, axis);
    let too_large = || {
        Error::new(
            ErrorKind::TooLarge {
                what: format!("an array of shape {shape:?}"),
            },
            Some(r.span),
            text,
        )
    };
    let len = shape_len(&shape).ok_or_else(too_large)?;
    let lines = shape_len(&out_shape).ok_or_else(too_large)?;
    let line = axis.map_or(len, |a| shape[a]);

    // No values to fold: the identity, or an error if a line is empty.
    if line == 0 || lines == 0 {
        let mut data = Data::try_zeros(dtype, lines).ok_or_else(|| {
            Error::new(
                ErrorKind::TooLarge {
                    what: format!("a result of shape {out_shape:?}"),
                },
                Some(r.span),
                text,
            )
        })?;
        match r.op.identity(dtype) {
            Some(id) => (0..lines).for_each(|i| data.set(i, id)),
            None if lines > 0 => return Err(r.empty_error(text)),
            None => {}
        }
        return Array::new(out_shape, data).ok_or_else(|| exec::internal("empty result".into()));
    }

    // The plan: the reduced axis last, so that each line is a run of the
    // flat index space.
    let permuted = permute(&bound, &rolls, shape.len(), axis);
    let sources: Vec<Source<'_>> = permuted
        .iter()
        .map(|(shape, strides, rolls)| Source {
            shape,
            strides,
            rolls,
        })
        .collect();
    let plan = Plan::new(&sources).map_err(|e| plan_error(func, &shapes, e, text))?;
    let inputs = exec_inputs(&bound, &plan);

    // Strategy: threads, tiles and engine.
    let acc = func.with_result_dtype(dtype);
    let max_threads = opts.threads.unwrap_or_else(num_threads).max(1);
    let threads = if opts.exact_threads {
        max_threads
    } else {
        strategy::threads_for(len, strategy::reduction_work_per_element(&acc), max_threads)
    };
    let tile_setting = opts.tile.unwrap_or_else(pool::tile_size_setting);
    let (task, call) = strategy::reduction_tiles(len, threads, tile_setting);
    let variant = cache::Variant {
        layouts: plan.layouts(),
        out: dtype,
        codegen: opts.codegen(),
    };
    // The input's kernel is cached under a key made of its function's text
    // form (which names every parameter and dtype), not under the input's
    // source text: re-parsing and re-checking that text for every nested
    // reduction made `sum(sum(...))` cost the cube of its depth. The key
    // starts with a NUL, which no expression text does.
    let key = format!("\0{acc}");
    let cached = {
        let mut cache = cache::lock();
        if !cache.has_program(&key) {
            let program = Program {
                main: acc.clone(),
                reductions: Vec::new(),
            };
            cache.insert_program(&key, Box::default(), scope.env, Arc::new(program));
        }
        cache.has_kernel(&key, scope.env, &variant)
    };
    // The fold is an operation per element too: `sum(a)` of 1e8 elements
    // is no small call even though its input `a` has no operations (it ran
    // multi-pass, copying `a` before folding it).
    let engine = strategy::choose_engine(
        opts.engine,
        len,
        strategy::ops_per_element(&acc) + 1,
        cached,
        scope.sightings,
    );

    let t_run;
    let result = match engine {
        Engine::Fused => {
            let (kernel, hit) = fused_kernel(&key, scope.env, variant, &acc)?;
            parts.misses += usize::from(!hit);
            t_run = Instant::now();
            let blocks = Blocks {
                kernel: &kernel,
                plan: &plan,
                inputs: &inputs,
                op: r.op,
                lines,
                line,
                per_line: line.div_ceil(REDUCE_BLOCK),
                line_major: plan
                    .strides
                    .iter()
                    .all(|s| s.last().is_some_and(|s| s.abs() <= 1)),
                call,
            };
            let task_blocks = task.div_ceil(line.min(REDUCE_BLOCK)).max(1);
            let data = match dtype {
                DType::Bool => Data::Bool(blocks.fold(threads, task_blocks)?),
                DType::I32 => Data::I32(blocks.fold(threads, task_blocks)?),
                DType::I64 => Data::I64(blocks.fold(threads, task_blocks)?),
                DType::F32 => Data::F32(blocks.fold(threads, task_blocks)?),
                DType::F64 => Data::F64(blocks.fold(threads, task_blocks)?),
            };
            let t = t_run.elapsed();
            cache::add_run_time(t);
            Array::new(out_shape, data).ok_or_else(|| exec::internal("result length".into()))?
        }
        Engine::MultiPass(mode) => {
            // numpy's way: the input materialised, then folded.
            cache::lock().count_multipass();
            t_run = Instant::now();
            let flat_sources = crate::sources(&bound, &rolls);
            let flat = Plan::new(&flat_sources).map_err(|e| plan_error(func, &shapes, e, text))?;
            let flat_inputs = exec_inputs(&bound, &flat);
            let tile = strategy::tile_for(
                len,
                strategy::bytes_per_element(&acc),
                threads,
                tile_setting,
            );
            let mut values = alloc_result(dtype, &shape, text)?;
            {
                let mut buf = data_target(values.data_mut());
                let settings = multipass::Settings {
                    threads,
                    tile,
                    accuracy: opts.codegen().accuracy,
                };
                multipass::run(&acc, &flat, &flat_inputs, buf.target(), mode, settings)?;
            }
            let data =
                interp::fold_array(r.op, &values, axis).map_err(|e| r.fold_error(e, text))?;
            Array::new(out_shape, data).ok_or_else(|| exec::internal("result length".into()))?
        }
        Engine::Interpreter => {
            t_run = Instant::now();
            let arrays: Vec<Array> = ops.iter().map(Operand::to_array).collect();
            let refs: Vec<&Array> = arrays.iter().collect();
            let value = interp::eval_with(func, &refs, text, &crate::check_interrupt)?;
            interp::reduce(r, &value, text)?
        }
    };
    parts.run_time += t_run.elapsed();
    parts.threads = parts.threads.max(threads);
    parts.elements += len;
    if len >= parts.largest {
        parts.largest = len;
        parts.engine = Some(engine);
        parts.tile = task;
    }
    Ok(result)
}

/// Each source's shape, strides and rolls over `ndim` dimensions, with
/// `axis` (if any) moved last.
type Permuted = (Vec<usize>, Vec<isize>, Vec<(usize, usize)>);

fn permute(
    bound: &[Bound<'_>],
    rolls: &[Vec<(usize, usize)>],
    ndim: usize,
    axis: Option<usize>,
) -> Vec<Permuted> {
    let order: Vec<usize> = match axis {
        Some(a) => (0..ndim).filter(|&d| d != a).chain([a]).collect(),
        None => (0..ndim).collect(),
    };
    bound
        .iter()
        .zip(rolls)
        .map(|(b, rolls)| {
            let pad = ndim - b.shape.len();
            let dim = |d: usize| {
                if d < pad {
                    (1, 0)
                } else {
                    (b.shape[d - pad], b.strides[d - pad])
                }
            };
            let shape = order.iter().map(|&d| dim(d).0).collect();
            let strides = order.iter().map(|&d| dim(d).1).collect();
            let rolls = rolls
                .iter()
                .map(|&(d, s)| (order.iter().position(|&o| o == d).unwrap_or(d), s))
                .collect();
            (shape, strides, rolls)
        })
        .collect()
}

fn exec_inputs<'a>(bound: &[Bound<'a>], plan: &Plan) -> Vec<Input<'a>> {
    bound
        .iter()
        .zip(plan.strides.iter().zip(&plan.rolls))
        .map(|(b, (s, r))| Input {
            bytes: b.bytes,
            dtype: b.dtype,
            base: b.base,
            strides: s.clone(),
            rolls: r.clone(),
        })
        .collect()
}

/// A fused reduction: `lines` lines of `line` values each (line `l` is the
/// flat range `l*line..(l+1)*line` of `plan`), each cut into blocks of
/// [`REDUCE_BLOCK`] values from its start. Blocks are numbered line-major
/// (`g = l*per_line + b`) when lines are runs in memory, else block-major
/// (`g = b*lines + l`), so that consecutive blocks of neighbouring lines
/// (columns) share cache lines. The order changes no result.
struct Blocks<'p, 'a> {
    kernel: &'p Kernel,
    plan: &'p Plan,
    inputs: &'p [Input<'a>],
    op: ReduceOp,
    lines: usize,
    line: usize,
    per_line: usize,
    line_major: bool,
    /// The most values one kernel call writes.
    call: usize,
}

impl Blocks<'_, '_> {
    /// Line and block (in the line) of block number `g`.
    fn block(&self, g: usize) -> (usize, usize) {
        if self.line_major {
            (g / self.per_line, g % self.per_line)
        } else {
            (g % self.lines, g / self.lines)
        }
    }

    /// The flat range of block `g`.
    fn range(&self, g: usize) -> (usize, usize) {
        let (l, b) = self.block(g);
        let start = l * self.line + b * REDUCE_BLOCK;
        let end = l * self.line + ((b + 1) * REDUCE_BLOCK).min(self.line);
        (start, end)
    }

    /// Runs the input's kernel over block `g` into `scratch` and folds it.
    fn partial<T: Fold + Elem>(&self, g: usize, scratch: &mut [T]) -> Result<T, Error> {
        let (start, end) = self.range(g);
        let nd = self.plan.dims.len();
        let mut result = Ok(());
        let mut operands: Vec<KOperand<'_>> = Vec::with_capacity(self.inputs.len());
        let mut offsets: Vec<isize> = Vec::with_capacity(self.inputs.len());
        self.plan.segments(start, end, |index, pos, count| {
            if result.is_err() {
                return;
            }
            offsets.clear();
            offsets.extend(self.inputs.iter().map(|input| {
                input.base as isize + self.plan.offset_rolled(index, &input.strides, &input.rolls)
            }));
            let mut done = 0;
            while done < count {
                let m = self.call.min(count - done);
                operands.clear();
                for (k, (input, &abs)) in self.inputs.iter().zip(&offsets).enumerate() {
                    let stride = input.strides[nd - 1];
                    let at = abs + done as isize * stride;
                    let Ok(at) = usize::try_from(at) else {
                        result = Err(exec::internal(format!(
                            "negative offset {at} for input {k}"
                        )));
                        return;
                    };
                    operands.push(KOperand::new(input.bytes, input.dtype, at, stride));
                }
                let lo = pos - start + done;
                let out = match T::elements_mut(&mut scratch[lo..lo + m]) {
                    ElementsMut::Bool(v) => KOutput::Bools(v),
                    ElementsMut::I32(v) => KOutput::Separate(bytemuck::cast_slice_mut(v)),
                    ElementsMut::I64(v) => KOutput::Separate(bytemuck::cast_slice_mut(v)),
                    ElementsMut::F32(v) => KOutput::Separate(bytemuck::cast_slice_mut(v)),
                    ElementsMut::F64(v) => KOutput::Separate(bytemuck::cast_slice_mut(v)),
                };
                if let Err(e) = self.kernel.run(&operands, out) {
                    result = Err(exec::internal(e.to_string()));
                    return;
                }
                done += m;
            }
        });
        result?;
        fold_block(self.op, &scratch[..end - start])
            .ok_or_else(|| exec::internal("empty block".into()))
    }

    /// Every block's partial (tasks of `task_blocks` consecutive blocks,
    /// on `threads` threads), then every line's result from its partials in
    /// order. Neither the thread count nor the task size changes a bit.
    fn fold<T: Fold + Elem>(&self, threads: usize, task_blocks: usize) -> Result<Vec<T>, Error> {
        let total = self
            .lines
            .checked_mul(self.per_line)
            .ok_or_else(|| exec::internal("block count overflows".into()))?;
        let too_large = || {
            Error::new(
                ErrorKind::TooLarge {
                    what: format!("{total} partial sums"),
                },
                None,
                "",
            )
        };
        let mut partials = Vec::new();
        partials.try_reserve_exact(total).map_err(|_| too_large())?;
        partials.resize(total, T::default());
        let scratch_len = self.line.min(REDUCE_BLOCK);
        // The interrupt is checked before every block (a block is at most
        // REDUCE_BLOCK values: microseconds), not only per task, so that a
        // single-threaded reduction (one task) stops too.
        let task = |c: usize, slots: &mut [T], scratch: &mut Vec<T>| -> Result<(), Error> {
            for (k, slot) in slots.iter_mut().enumerate() {
                crate::check_interrupt()?;
                *slot = self.partial(c * task_blocks + k, scratch)?;
            }
            Ok(())
        };
        if threads <= 1 || total <= task_blocks {
            let mut scratch = vec![T::default(); scratch_len];
            for (c, slots) in partials.chunks_mut(task_blocks).enumerate() {
                task(c, slots, &mut scratch)?;
            }
        } else {
            let first_error: Mutex<Option<Error>> = Mutex::new(None);
            pool::pool(threads).install(|| {
                partials
                    .par_chunks_mut(task_blocks)
                    .enumerate()
                    .for_each_init(
                        || vec![T::default(); scratch_len],
                        |scratch, (c, slots)| {
                            if let Err(e) = task(c, slots, scratch)
                                && let Ok(mut slot) = first_error.lock()
                            {
                                slot.get_or_insert(e);
                            }
                        },
                    );
            });
            if let Ok(Some(e)) = first_error.into_inner() {
                return Err(e);
            }
        }
        let mut out = Vec::with_capacity(self.lines);
        let mut line_partials: Vec<T> = Vec::with_capacity(self.per_line);
        for l in 0..self.lines {
            line_partials.clear();
            if self.line_major {
                line_partials
                    .extend_from_slice(&partials[l * self.per_line..(l + 1) * self.per_line]);
            } else {
                line_partials.extend((0..self.per_line).map(|b| partials[b * self.lines + l]));
            }
            let value = fold_partials(self.op, &line_partials, self.line)
                .map_err(|_| exec::internal("empty line".into()))?;
            out.push(value);
        }
        Ok(out)
    }
}
