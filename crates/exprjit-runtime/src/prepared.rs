//! A prepared expression: parsed and type checked once for a signature, its
//! kernels kept by layout, so that each run costs binding and the kernel
//! call only (the counterpart of numexpr's `NumExpr` and `re_evaluate`).
//! An expression with reductions runs through `evaluate`'s path instead
//! (its kernels cached there).

use crate::exec::{self, Input, Target};
use crate::plan::Plan;
use crate::{
    Array, DType, Error, ErrorKind, Options, Scalar, Trace, alloc_result, cache, data_target,
    operand::Operand, strategy,
};
use exprjit_codegen::{Kernel, Layout};
use exprjit_ir::{Func, Program};
use smallvec::SmallVec;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// An expression compiled for fixed parameter dtypes.
#[derive(Debug)]
pub struct Prepared {
    text: String,
    func: Arc<Func>,
    /// For an expression with reductions: its variables and their dtypes,
    /// in the order `run` takes them.
    reduced: Option<Vec<(String, DType)>>,
    kernels: Mutex<Vec<(Vec<Layout>, Arc<Kernel>)>>,
    /// The options force an engine other than the fused one: runs go
    /// through `evaluate_with`, which honours it.
    other_engine: bool,
    /// The kernel for all inputs contiguous, kept apart so the common call
    /// takes no lock.
    contiguous: Arc<Kernel>,
    /// Work units per element (see [`strategy::work_per_element`]).
    work: usize,
    opts: Options,
}

impl Prepared {
    /// Parses and checks `expr` with `signature` giving each variable's
    /// dtype. Kernels are compiled on first use for each layout (and the
    /// all-contiguous one at once).
    pub fn compile(expr: &str, signature: &[(&str, DType)]) -> Result<Prepared, Error> {
        Prepared::compile_with(expr, signature, Options::default())
    }

    pub fn compile_with(
        expr: &str,
        signature: &[(&str, DType)],
        opts: Options,
    ) -> Result<Prepared, Error> {
        let program: Program = exprjit_ir::compile_program(expr, signature)?;
        // An engine other than the fused one, when forced, is honoured by
        // running through `evaluate`'s path, as expressions with
        // reductions do.
        let other_engine = matches!(
            opts.engine,
            crate::EngineChoice::Force(e) if e != strategy::Engine::Fused
        );
        let reduced = (!program.reductions.is_empty()).then(|| {
            program
                .variables()
                .into_iter()
                .map(|n| {
                    let d = signature
                        .iter()
                        .find(|(s, _)| *s == n)
                        .map_or(DType::F64, |(_, d)| *d);
                    (n, d)
                })
                .collect()
        });
        let func = Arc::new(program.main);
        let layouts = vec![Layout::Contiguous; func.params.len()];
        let contiguous = Kernel::compile(&func, &layouts, &opts.codegen())
            .map_err(|e| exec::codegen_error(e).in_text(expr))?;
        let contiguous = Arc::new(contiguous);
        Ok(Prepared {
            text: expr.to_string(),
            work: strategy::work_per_element(&func),
            func,
            reduced,
            kernels: Mutex::new(vec![(layouts, contiguous.clone())]),
            contiguous,
            other_engine,
            opts,
        })
    }

    /// The variables the expression reads, in the order `run` takes them.
    pub fn input_names(&self) -> Vec<&str> {
        match &self.reduced {
            Some(vars) => vars.iter().map(|(n, _)| n.as_str()).collect(),
            None => self.func.params.iter().map(|p| p.name.as_str()).collect(),
        }
    }

    pub fn input_dtypes(&self) -> Vec<DType> {
        match &self.reduced {
            Some(vars) => vars.iter().map(|(_, d)| *d).collect(),
            None => self.func.params.iter().map(|p| p.dtype).collect(),
        }
    }

    pub fn result_dtype(&self) -> DType {
        self.func.result_dtype()
    }

    /// The elementwise function; with reductions, the main function, which
    /// reads their results as parameters (see `exprjit_ir::Program`).
    pub fn func(&self) -> &Func {
        &self.func
    }

    fn kernel(&self, layouts: &[Layout]) -> Result<Arc<Kernel>, Error> {
        let mut ks = self.kernels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, k)) = ks.iter().find(|(l, _)| l == layouts) {
            return Ok(k.clone());
        }
        let k = Kernel::compile(&self.func, layouts, &self.opts.codegen())
            .map_err(|e| exec::codegen_error(e).in_text(&self.text))?;
        let k = Arc::new(k);
        ks.push((layouts.to_vec(), k.clone()));
        Ok(k)
    }

    /// Runs on `inputs`, one per [`Prepared::input_names`], in that order.
    /// Prepared runs bypass the cache and its statistics.
    pub fn run(&self, inputs: &[Operand<'_>]) -> Result<Array, Error> {
        self.run_impl(inputs, false).map(|(a, _)| a)
    }

    /// [`Prepared::run`], also returning what ran.
    pub fn run_traced(&self, inputs: &[Operand<'_>]) -> Result<(Array, Trace), Error> {
        self.run_impl(inputs, true)
    }

    fn run_impl(&self, inputs: &[Operand<'_>], timed: bool) -> Result<(Array, Trace), Error> {
        if let Some(vars) = &self.reduced {
            return self.run_reduced(vars, inputs);
        }
        let t0 = Instant::now();
        let fits = inputs.len() == self.func.params.len()
            && self
                .func
                .params
                .iter()
                .zip(inputs)
                .all(|(p, op)| p.dtype == op.dtype());
        if !fits {
            let expected = self
                .func
                .params
                .iter()
                .map(|p| (p.name.clone(), p.dtype))
                .collect();
            return Err(self.mismatch(expected, inputs));
        }
        if self.other_engine {
            let mut vars = crate::Vars::new();
            for (p, op) in self.func.params.iter().zip(inputs) {
                vars.set(p.name.as_str(), crate::reborrow(op));
            }
            return crate::evaluate_with(&self.text, &vars, &self.opts);
        }
        let rolled = self.func.params.iter().any(|p| !p.rolls.is_empty());
        if !rolled
            && let Some((layouts, n)) = simple_layouts(inputs)
            && strategy::is_small_call(n, self.work)
            && self.opts.tile.is_none()
            && !self.opts.exact_threads
        {
            let other;
            let kernel = if layouts.iter().all(|l| *l == Layout::Contiguous) {
                &self.contiguous
            } else {
                other = self.kernel(&layouts)?;
                &other
            };
            let ins: SmallVec<[Option<&Operand<'_>>; 8]> = inputs.iter().map(Some).collect();
            let mut result = None;
            let t0 = timed.then_some(t0);
            let out = crate::Out::New(&mut result);
            let trace = crate::call_simple(kernel, &ins, n, out, t0, &self.text)?;
            return match result {
                Some(r) => Ok((r, trace)),
                None => Err(exec::internal("no result".into())),
            };
        }
        let scalars: Vec<[u8; 8]> = inputs
            .iter()
            .map(|op| match op {
                Operand::Scalar(s) => crate::scalar_bytes(*s),
                _ => [0; 8],
            })
            .collect();
        let bound: Vec<crate::Bound<'_>> = inputs
            .iter()
            .zip(&scalars)
            .map(|(op, s)| crate::bind(op, s))
            .collect();
        let shapes: Vec<&[usize]> = bound.iter().map(|b| b.shape.as_slice()).collect();
        let rolls = crate::resolve_param_rolls(&self.func, &shapes, &self.text)?;
        let sources = crate::sources(&bound, &rolls);
        let plan = Plan::new(&sources)
            .map_err(|e| crate::plan_error(&self.func, &shapes, e, &self.text))?;
        let kernel = self.kernel(&plan.layouts())?;
        let compile_time = t0.elapsed();
        let work = strategy::work_per_element(&self.func);
        let max_threads = self.opts.threads.unwrap_or_else(crate::num_threads).max(1);
        let threads = if self.opts.exact_threads {
            max_threads
        } else {
            strategy::threads_for(plan.len, work, max_threads)
        };
        let setting = self
            .opts
            .tile
            .unwrap_or_else(crate::pool::tile_size_setting);
        let tile = strategy::tile_for(
            plan.len,
            strategy::bytes_per_element(&self.func),
            threads,
            setting,
        );
        let tile = strategy::fused_tile(tile, plan.len, &plan.dims, threads, setting);
        let mut result = alloc_result(self.func.result_dtype(), &plan.shape, &self.text)?;
        let t_run = Instant::now();
        {
            let exec_inputs: Vec<Input<'_>> = bound
                .iter()
                .zip(plan.strides.iter().zip(&plan.rolls))
                .map(|(b, (s, r))| Input {
                    bytes: b.bytes,
                    dtype: b.dtype,
                    base: b.base,
                    strides: s.clone(),
                    rolls: r.clone(),
                })
                .collect();
            let mut buf = data_target(result.data_mut());
            let target: Target<'_> = buf.target();
            exec::run(&kernel, &plan, &exec_inputs, target, threads, tile)?;
        }
        let run_time = t_run.elapsed();
        cache::add_run_time(run_time);
        Ok((
            result,
            Trace {
                engine: strategy::Engine::Fused,
                cache_hit: true,
                compile_time,
                run_time,
                threads,
                tile,
                elements: plan.len,
            },
        ))
    }

    /// An expression with reductions: checks the inputs against the
    /// signature and evaluates as `evaluate_with` does.
    fn run_reduced(
        &self,
        signature: &[(String, DType)],
        inputs: &[Operand<'_>],
    ) -> Result<(Array, Trace), Error> {
        let mismatch = inputs.len() != signature.len()
            || signature
                .iter()
                .zip(inputs)
                .any(|((_, d), op)| *d != op.dtype());
        if mismatch {
            return Err(self.mismatch(signature.to_vec(), inputs));
        }
        let mut vars = crate::Vars::new();
        for ((name, _), op) in signature.iter().zip(inputs) {
            vars.set(name.as_str(), crate::reborrow(op));
        }
        crate::evaluate_with(&self.text, &vars, &self.opts)
    }

    /// The user error for `inputs` that do not fit the prepared variables.
    fn mismatch(&self, expected: Vec<(String, DType)>, inputs: &[Operand<'_>]) -> Error {
        Error::new(
            ErrorKind::InputMismatch {
                expected,
                found: inputs.iter().map(Operand::dtype).collect(),
            },
            None,
            &self.text,
        )
    }

    /// Runs with the inputs taken by name from `vars`.
    pub fn run_vars(&self, vars: &crate::Vars<'_>) -> Result<Array, Error> {
        let ops: Vec<Operand<'_>> = self
            .input_names()
            .into_iter()
            .map(|name| {
                vars.get(name).cloned().ok_or_else(|| {
                    Error::new(
                        ErrorKind::UnknownVariable {
                            name: name.to_string(),
                        },
                        None,
                        &self.text,
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        self.run(&ops)
    }
}

/// The kernel layouts and length of a call whose inputs are all 1-d
/// contiguous of one length (> 1) or 0-d.
fn simple_layouts(inputs: &[Operand<'_>]) -> Option<(SmallVec<[Layout; 8]>, usize)> {
    let mut n = None;
    let mut layouts = SmallVec::new();
    for op in inputs {
        let len = match op {
            Operand::Scalar(_) => None,
            Operand::View(v) => match (v.shape(), v.strides()) {
                ([], _) => None,
                ([len], [1]) => Some(*len),
                _ => return None,
            },
            Operand::Array(a) => match a.shape() {
                [] => None,
                [len] => Some(*len),
                _ => return None,
            },
        };
        match len {
            Some(len) => {
                if len <= 1 || n.is_some_and(|m| m != len) {
                    return None;
                }
                n = Some(len);
                layouts.push(Layout::Contiguous);
            }
            None => layouts.push(Layout::Broadcast),
        }
    }
    Some((layouts, n?))
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Prepared>();
    let _ = Scalar::Bool(true);
}
