//! The multi-pass executor: evaluates a [`Func`] the way numpy does, one
//! full pass over memory per operation, each pass a one-operation kernel
//! writing a temporary array (or, in the in-place variant, overwriting a
//! temporary that is not needed any more: `t = a*b; t += c`).
//!
//! It exists as the baseline that shows what fusion buys, and as the cheap
//! path for cold calls on small arrays: its one-operation kernels are
//! shared by every expression, so a new expression costs no compile.

use crate::exec::{self, Input, Target};
use crate::plan::Plan;
use exprjit_codegen::{Accuracy, Kernel, Layout, Options};
use exprjit_ir::{DType, Error, Func, Inst, InstKind, Op, Param, Scalar, Value};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Whether passes allocate a fresh temporary each (numpy's default) or
/// overwrite dead temporaries of the right dtype (numpy's `out=` idiom).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Temporaries,
    InPlace,
}

/// How the passes of one evaluation run: threads, tile size, and the code
/// generator's options of their one-operation kernels (the call's
/// accuracy: under `Strict` every pass gives the interpreter's bits).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) threads: usize,
    pub(crate) tile: usize,
    pub(crate) accuracy: Accuracy,
}

type OpKey = (Option<Op>, Vec<DType>, Vec<Layout>, Accuracy);

/// One-operation kernels, shared by all expressions. The set is finite
/// (operations x dtypes x layouts x accuracies), so it is not evicted.
/// One operation has nothing to fuse, so FMA contraction never applies.
fn op_kernel(
    op: Option<Op>,
    dtypes: &[DType],
    layouts: &[Layout],
    accuracy: Accuracy,
) -> Result<Arc<Kernel>, Error> {
    static KERNELS: OnceLock<Mutex<FxHashMap<OpKey, Arc<Kernel>>>> = OnceLock::new();
    let map = KERNELS.get_or_init(|| Mutex::new(FxHashMap::default()));
    let key: OpKey = (op, dtypes.to_vec(), layouts.to_vec(), accuracy);
    if let Some(k) = map.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(k.clone());
    }
    let func = single_op_func(op, dtypes);
    let options = Options {
        fma: false,
        accuracy,
    };
    let kernel = Kernel::compile(&func, layouts, &options).map_err(exec::codegen_error)?;
    let kernel = Arc::new(kernel);
    map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, kernel.clone());
    Ok(kernel)
}

/// `x0 op x1 ...`, or the identity on `x0` when `op` is `None` (a copy).
fn single_op_func(op: Option<Op>, dtypes: &[DType]) -> Func {
    let params: Vec<Param> = dtypes
        .iter()
        .enumerate()
        .map(|(i, &dtype)| Param {
            name: format!("x{i}"),
            dtype,
            rolls: Vec::new(),
        })
        .collect();
    let mut insts: Vec<Inst> = dtypes
        .iter()
        .enumerate()
        .map(|(i, &dtype)| Inst {
            kind: InstKind::Param(i as u32),
            dtype,
            span: Default::default(),
        })
        .collect();
    if let Some(op) = op {
        let operand = match op.info().promote {
            exprjit_ir::ops::Promote::Where => dtypes[1],
            _ => dtypes[0],
        };
        insts.push(Inst {
            kind: InstKind::Apply(op, (0..dtypes.len() as u32).map(Value).collect()),
            dtype: op.result_dtype(operand),
            span: Default::default(),
        });
    }
    let result = Value(insts.len() as u32 - 1);
    Func {
        params,
        insts,
        result,
    }
}

/// A value of the function during execution.
#[derive(Clone, Copy, Debug)]
enum Val {
    Input(usize),
    Const(Scalar),
    Temp(usize),
}

/// A temporary over the plan's elements, 8-byte aligned.
struct Temp {
    words: Vec<u64>,
    bytes: usize,
    dtype: DType,
}

impl Temp {
    fn new(dtype: DType, len: usize) -> Result<Temp, Error> {
        let bytes = len.checked_mul(dtype.size()).ok_or_else(too_large)?;
        let mut words = Vec::new();
        words
            .try_reserve_exact(bytes.div_ceil(8))
            .map_err(|_| too_large())?;
        words.resize(bytes.div_ceil(8), 0);
        Ok(Temp {
            words,
            bytes,
            dtype,
        })
    }
    fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.bytes]
    }
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.bytes]
    }
}

fn too_large() -> Error {
    Error::new(
        exprjit_ir::ErrorKind::TooLarge {
            what: "a temporary array".into(),
        },
        None,
        "",
    )
}

fn scalar_bytes(s: Scalar) -> [u8; 8] {
    let mut b = [0u8; 8];
    match s {
        Scalar::Bool(x) => b[0] = u8::from(x),
        Scalar::I32(x) => b[..4].copy_from_slice(&x.to_ne_bytes()),
        Scalar::I64(x) => b.copy_from_slice(&x.to_ne_bytes()),
        Scalar::F32(x) => b[..4].copy_from_slice(&x.to_ne_bytes()),
        Scalar::F64(x) => b.copy_from_slice(&x.to_ne_bytes()),
    }
    b
}

/// Evaluates `func` pass by pass. `inputs` are the parameters over `plan`;
/// the last pass writes `target` (whose dtype is the function's result
/// dtype). If `target` is in place, the input it names is read from it.
pub(crate) fn run(
    func: &Func,
    plan: &Plan,
    inputs: &[Input<'_>],
    target: Target<'_>,
    mode: Mode,
    settings: Settings,
) -> Result<(), Error> {
    let Settings {
        threads,
        tile,
        accuracy,
    } = settings;
    let nd = plan.dims.len();
    let contiguous = crate::plan::contiguous_strides(&plan.dims);
    let mut last_use = vec![0usize; func.insts.len()];
    for (i, inst) in func.insts.iter().enumerate() {
        if let InstKind::Apply(_, args) = &inst.kind {
            for a in args {
                last_use[a.index()] = i;
            }
        }
    }
    let result = func.result.index();
    last_use[result] = usize::MAX;
    let in_place_input = match &target {
        Target::InPlace { input, .. } => Some(*input),
        _ => None,
    };
    // numpy's way with `roll`: a shifted copy of the array per roll, made
    // before the passes that use it.
    let mut shifted: Vec<Temp> = Vec::new();
    let mut shifted_of: Vec<Option<usize>> = vec![None; inputs.len()];
    for (k, input) in inputs.iter().enumerate() {
        if input.rolls.is_empty() {
            continue;
        }
        let copy = op_kernel(None, &[input.dtype], &[plan.layouts()[k]], accuracy)?;
        let mut t = Temp::new(input.dtype, plan.len)?;
        exec::run(
            &copy,
            plan,
            std::slice::from_ref(input),
            Target::Bytes(t.as_bytes_mut()),
            threads,
            tile,
        )?;
        shifted_of[k] = Some(shifted.len());
        shifted.push(t);
    }
    let unrolled: Vec<Input<'_>> = inputs
        .iter()
        .enumerate()
        .map(|(k, input)| match shifted_of[k] {
            Some(i) => Input {
                bytes: shifted[i].as_bytes(),
                dtype: input.dtype,
                base: 0,
                strides: contiguous.clone(),
                rolls: Vec::new(),
            },
            None => input.clone(),
        })
        .collect();
    let inputs = &unrolled[..];
    let mut temps: Vec<Option<Temp>> = Vec::new();
    let mut vals: Vec<Val> = Vec::with_capacity(func.insts.len());
    let mut target = Some(target);

    for (i, inst) in func.insts.iter().enumerate() {
        let (op, args): (Option<Op>, Vec<Value>) = match &inst.kind {
            InstKind::Param(n) => {
                vals.push(Val::Input(*n as usize));
                if i != result {
                    continue;
                }
                (None, vec![Value(i as u32)])
            }
            InstKind::Const(c) => {
                vals.push(Val::Const(*c));
                if i != result {
                    continue;
                }
                (None, vec![Value(i as u32)])
            }
            InstKind::Apply(op, args) => (Some(*op), args.clone()),
        };
        let arg_vals: Vec<Val> = args.iter().map(|a| vals[a.index()]).collect();
        let dtypes: Vec<DType> = args.iter().map(|a| func.dtype(*a)).collect();
        let plan_layouts = plan.layouts();
        let layouts: Vec<Layout> = arg_vals
            .iter()
            .map(|v| match v {
                Val::Input(k) if Some(*k) == in_place_input => Layout::Contiguous,
                Val::Input(k) if shifted_of[*k].is_some() => {
                    crate::plan::layout_of_stride(contiguous[nd - 1])
                }
                Val::Input(k) => plan_layouts[*k],
                Val::Const(_) => Layout::Broadcast,
                Val::Temp(_) => crate::plan::layout_of_stride(contiguous[nd - 1]),
            })
            .collect();
        let kernel = op_kernel(op, &dtypes, &layouts, accuracy)?;
        let consts: Vec<[u8; 8]> = arg_vals
            .iter()
            .map(|v| match v {
                Val::Const(c) => scalar_bytes(*c),
                _ => [0; 8],
            })
            .collect();
        // This pass's inputs, reading `temps` as they are now (a macro, not
        // a closure: each use borrows `temps` and the alias for itself).
        macro_rules! pass_for {
            ($temps:expr, $alias:expr, $in_place:expr $(,)?) => {
                pass_inputs(
                    &arg_vals,
                    &dtypes,
                    inputs,
                    $temps,
                    &consts,
                    &contiguous,
                    nd,
                    $alias,
                    $in_place,
                )
            };
        }

        if i == result {
            // The last pass writes the target. An input the target aliases
            // is read from it in place when this pass reads it; earlier
            // passes read it through a shared borrow of the target.
            let Some(mut t) = target.take() else {
                return Err(exec::internal("target used twice".into()));
            };
            let aliased: Vec<usize> = arg_vals
                .iter()
                .enumerate()
                .filter(|(_, v)| matches!(v, Val::Input(k) if Some(*k) == in_place_input))
                .map(|(j, _)| j)
                .collect();
            if aliased.len() > 1
                && let Target::InPlace { buffer, .. } = &mut t
            {
                // The pass reads the target through several operands: it
                // cannot read them all from the buffer it writes, so it
                // writes a temporary that is then copied over the target.
                let alias = Some((in_place_input.unwrap_or(usize::MAX), &buffer[..]));
                let pass = pass_for!(&temps, alias, None)?;
                let tmp = into_temp(&kernel, plan, &pass, inst.dtype, threads, tile)?;
                let copy = op_kernel(None, &[inst.dtype], &[Layout::Contiguous], accuracy)?;
                let src = [Input {
                    bytes: tmp.as_bytes(),
                    dtype: inst.dtype,
                    base: 0,
                    strides: contiguous.clone(),
                    rolls: Vec::new(),
                }];
                return exec::run(&copy, plan, &src, Target::Bytes(buffer), threads, tile);
            }
            let aliased = aliased.first().copied();
            let pass_inputs = pass_for!(
                &temps,
                None,
                aliased.filter(|_| matches!(t, Target::InPlace { .. })),
            )?;
            let t = match (&mut t, aliased) {
                (Target::InPlace { buffer, .. }, Some(pos)) => {
                    Target::InPlace { input: pos, buffer }
                }
                (Target::InPlace { buffer, .. }, None) => Target::Bytes(buffer),
                (Target::Bytes(b), _) => Target::Bytes(b),
                (Target::Bools(b), _) => Target::Bools(b),
            };
            return exec::run(&kernel, plan, &pass_inputs, t, threads, tile);
        }

        // Where the result of this pass goes: a dead temporary of the same
        // dtype (in-place mode), or a new one. A temporary this pass reads
        // through more than one operand (`t*t` after CSE) is not reused:
        // the kernel reads only one operand from the buffer it writes.
        let reuse = match mode {
            Mode::InPlace => args.iter().position(|a| {
                last_use[a.index()] == i
                    && args.iter().filter(|b| *b == a).count() == 1
                    && matches!(vals[a.index()], Val::Temp(t) if temps[t].as_ref().is_some_and(|t| t.dtype == inst.dtype))
            }),
            Mode::Temporaries => None,
        };
        let alias: Option<(usize, &[u8])> = match (&target, in_place_input) {
            (Some(Target::InPlace { buffer, .. }), Some(k)) => Some((k, &buffer[..])),
            _ => None,
        };
        match reuse {
            Some(pos) => {
                let Val::Temp(t) = arg_vals[pos] else {
                    return Err(exec::internal("reused value is not a temporary".into()));
                };
                let mut buf = temps[t]
                    .take()
                    .ok_or_else(|| exec::internal("temp gone".into()))?;
                {
                    let pass = pass_for!(&temps, alias, Some(pos))?;
                    let target = Target::InPlace {
                        input: pos,
                        buffer: buf.as_bytes_mut(),
                    };
                    exec::run(&kernel, plan, &pass, target, threads, tile)?;
                }
                temps[t] = Some(buf);
                vals.push(Val::Temp(t));
            }
            None => {
                let pass = pass_for!(&temps, alias, None)?;
                let buf = into_temp(&kernel, plan, &pass, inst.dtype, threads, tile)?;
                temps.push(Some(buf));
                vals.push(Val::Temp(temps.len() - 1));
            }
        }
        // Free temporaries whose last use was this pass (numpy frees them
        // when their reference count drops).
        for a in &args {
            if last_use[a.index()] == i
                && let Val::Temp(t) = vals[a.index()]
                && !matches!(vals[i], Val::Temp(u) if u == t)
            {
                temps[t] = None;
            }
        }
    }
    Err(exec::internal("function has no result".into()))
}

/// The kernel inputs of one pass.
/// Runs `kernel` over `plan` into a new temporary of `dtype`.
fn into_temp(
    kernel: &Kernel,
    plan: &Plan,
    pass: &[Input<'_>],
    dtype: DType,
    threads: usize,
    tile: usize,
) -> Result<Temp, Error> {
    let mut buf = Temp::new(dtype, plan.len)?;
    exec::run(
        kernel,
        plan,
        pass,
        Target::Bytes(buf.as_bytes_mut()),
        threads,
        tile,
    )?;
    Ok(buf)
}

#[allow(clippy::too_many_arguments)]
fn pass_inputs<'a>(
    args: &[Val],
    dtypes: &[DType],
    inputs: &[Input<'a>],
    temps: &'a [Option<Temp>],
    consts: &'a [[u8; 8]],
    contiguous: &[isize],
    nd: usize,
    alias: Option<(usize, &'a [u8])>,
    in_place: Option<usize>,
) -> Result<Vec<Input<'a>>, Error> {
    args.iter()
        .enumerate()
        .map(|(j, v)| match v {
            // The kernel reads this operand from its output buffer.
            _ if in_place == Some(j) => Ok(Input {
                bytes: &[],
                dtype: dtypes[j],
                base: 0,
                strides: vec![0; nd],
                rolls: Vec::new(),
            }),
            Val::Input(k) => {
                let mut input = inputs
                    .get(*k)
                    .cloned()
                    .ok_or_else(|| exec::internal(format!("no input {k}")))?;
                if let Some((aliased, bytes)) = alias
                    && aliased == *k
                {
                    input.bytes = bytes;
                }
                Ok(input)
            }
            Val::Const(c) => Ok(Input {
                bytes: &consts[j][..c.dtype().size()],
                dtype: c.dtype(),
                base: 0,
                strides: vec![0; nd],
                rolls: Vec::new(),
            }),
            Val::Temp(t) => {
                let temp = temps[*t]
                    .as_ref()
                    .ok_or_else(|| exec::internal(format!("temporary {t} freed early")))?;
                Ok(Input {
                    bytes: temp.as_bytes(),
                    dtype: temp.dtype,
                    base: 0,
                    strides: contiguous.to_vec(),
                    rolls: Vec::new(),
                })
            }
        })
        .collect()
}
