//! Lowers a typed `exprjit_ir::Func` into one Cranelift function: a SIMD
//! main loop over several whole vectors per iteration, a loop over single
//! vectors for most of the rest (cheap kernels only), then a scalar
//! remainder loop.
//!
//! # Kernel ABI
//!
//! ```text
//! extern "C" fn(ptrs: *const *const u8, strides: *const isize, out: *mut u8, len: usize,
//!               rows: usize, row_strides: *const isize, out_row_stride: isize)
//! ```
//!
//! `rows` rows of `len` elements each. For row 0, `ptrs[i]` points at the
//! first element operand `i` reads; `strides[i]` is its stride in **bytes**
//! within a row (read only for [`Layout::Strided`]); `out` is contiguous
//! within a row. Each next row starts `row_strides[i]` bytes further for
//! operand `i` and `out_row_stride` bytes further for the output (a
//! broadcast operand is loaded once per row). `len >= 1` and `rows >= 1`:
//! broadcast operands are loaded before a row's loops, so
//! [`Kernel::run`](crate::Kernel::run) does not call the kernel for an
//! empty range. One call runs a block of rows of a stencil or a broadcast
//! (a column against a row) without a call, and its checks, per row.
//!
//! # Vector shape
//!
//! A kernel has one lane count `N = 16 / (widest non-bool element size)`:
//! 2 if any value is 64-bit, else 4. Every value lives in one 128-bit
//! register (f64x2, i64x2, f32x4, i32x4); 32-bit values in a 2-lane kernel
//! use the low two lanes (so `f32 -> f64` is `fvpromote_low`, `i32 -> f64`
//! is `cvtdq2pd`, `i64 -> i32` one shuffle), and the garbage upper lanes are
//! never stored. Bools are lane masks (all ones / zero) of 32 or 64 bits,
//! converted between widths where an op mixes them; in memory and in the
//! scalar loop they are bytes 0 / 1. Ops without a fitting vector
//! instruction extract the lanes and run the scalar lowering per lane
//! ([`lowering`] says which).

use crate::error::Error;
use crate::operand::Layout;
use crate::symbols::{self, Helper};
use crate::vmath::{self, Vm};
use crate::{Accuracy, Options};
use cranelift_codegen::ir::GlobalValue;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::Ieee32;
use cranelift_codegen::ir::immediates::Ieee64;
use cranelift_codegen::ir::types::{self, Type};
use cranelift_codegen::ir::{
    AbiParam, ConstantData, Endianness, FuncRef, Function, InstBuilder, MemFlagsData, Signature,
    StackSlot, StackSlotData, StackSlotKind, Value as CValue,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};
use exprjit_ir::{DType, Func, InstKind, Op, Scalar};
use std::collections::HashMap;

/// How an operation is lowered inside the vector loop (the scalar
/// remainder loop always uses the scalar lowering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lowering {
    /// SIMD instructions on whole vectors.
    Vector,
    /// Extract each lane, run the inline scalar lowering, insert it back.
    Lanes,
    /// Extract each lane and call a Rust function for it: a libm function
    /// of the operator table or an `exprjit_ir::semantics` definition.
    Call,
    /// An inline vector math routine (`crate::vmath`), under
    /// [`Accuracy::Fast`]: within the documented ULP bound of the libm
    /// function, not bit-identical to it.
    Math,
}

/// How `op` on operands of dtype `dt` is lowered in the vector loop under
/// `accuracy`: [`lowering`], except that with [`Accuracy::Fast`] the libm
/// functions (and float `**`) become [`Lowering::Math`].
pub fn lowering_for(op: Op, dt: DType, accuracy: Accuracy) -> Lowering {
    if accuracy == Accuracy::Fast && dt.is_float() && vmath::routine_of(op).is_some() {
        Lowering::Math
    } else {
        lowering(op, dt)
    }
}

/// How `op` on operands of dtype `dt` (for `where`: the dtype of `x`; for
/// casts: the source dtype) is lowered in the vector loop under
/// [`Accuracy::Strict`] (see [`lowering_for`]).
pub fn lowering(op: Op, dt: DType) -> Lowering {
    use Lowering::*;
    match op {
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Neg | Op::Not | Op::Abs | Op::Sign => Vector,
        Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => Vector,
        Op::And | Op::Or | Op::Xor | Op::Where | Op::Maximum | Op::Minimum => Vector,
        Op::Sqrt | Op::Floor | Op::Ceil | Op::Trunc | Op::Round => Vector,
        Op::Signbit | Op::Isnan | Op::Isinf | Op::Isfinite | Op::Copysign => Vector,
        // x86 has no per-lane variable shift in SSE, nor integer division.
        Op::Shl | Op::Shr => Lanes,
        Op::FloorDiv | Op::Mod | Op::Fmod if dt.is_float() => Call,
        Op::FloorDiv | Op::Mod | Op::Fmod => Lanes,
        Op::Pow | Op::Nextafter => Call,
        Op::Exp | Op::Expm1 | Op::Log | Op::Log1p | Op::Log10 | Op::Log2 => Call,
        Op::Sin | Op::Cos | Op::Tan | Op::Arcsin | Op::Arccos | Op::Arctan => Call,
        Op::Sinh | Op::Cosh | Op::Tanh | Op::Arcsinh | Op::Arccosh | Op::Arctanh => Call,
        Op::Hypot | Op::Arctan2 => Call,
        Op::Cast(to) => match (dt, to) {
            (DType::I64, DType::F32)
            | (DType::F32, DType::I64)
            | (DType::F64, DType::I32)
            | (DType::F64, DType::I64) => Lanes,
            _ => Vector,
        },
    }
}

/// What the lowering decided about the loop shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub(crate) lanes: usize,
    pub(crate) unroll: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Scalar,
    Vector,
}

/// The kernel's signature (see the ABI above).
pub(crate) fn signature(module: &JITModule) -> Signature {
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    for _ in 0..7 {
        sig.params.push(AbiParam::new(ptr));
    }
    sig
}

/// Builds the kernel body of `f` into `out` (whose signature is [`signature`]).
pub(crate) fn build(
    module: &mut JITModule,
    out: &mut Function,
    fctx: &mut FunctionBuilderContext,
    f: &Func,
    layouts: &[Layout],
    opts: &Options,
    has_fma: bool,
) -> Result<Shape, Error> {
    let ptr = module.target_config().pointer_type();
    // Only what the result depends on is computed (and loaded).
    let mut live = vec![false; f.insts.len()];
    live[f.result.index()] = true;
    let mut uses = vec![0usize; f.insts.len()];
    for i in (0..f.insts.len()).rev() {
        if let (true, InstKind::Apply(_, args)) = (live[i], &f.insts[i].kind) {
            for a in args {
                live[a.index()] = true;
                uses[a.index()] += 1;
            }
        }
    }
    let widest = f
        .insts
        .iter()
        .zip(&live)
        .filter(|(inst, l)| **l && inst.dtype != DType::Bool)
        .map(|(inst, _)| inst.dtype.size())
        .max()
        .unwrap_or(4);
    let lanes = 16 / widest;
    let applied: Vec<(Op, DType)> = f
        .insts
        .iter()
        .zip(&live)
        .filter_map(|(inst, l)| match (&inst.kind, l) {
            (InstKind::Apply(op, args), true) => {
                let dt = match op {
                    Op::Where => f.dtype(args[1]),
                    _ => f.dtype(args[0]),
                };
                Some((*op, dt))
            }
            _ => None,
        })
        .collect();
    // PERF: unroll so that 4 independent vectors are in flight for short
    // expressions (latency of addpd/mulpd is 3-4 cycles); long expressions
    // already have enough independent work and would only spill; per-lane
    // calls are dominated by the call. Not tuned beyond that.
    let kinds: Vec<Lowering> = applied
        .iter()
        .map(|(op, dt)| lowering_for(*op, *dt, opts.accuracy))
        .collect();
    let calls = kinds.contains(&Lowering::Call);
    // PERF: a math routine is 30-150 instructions with long dependency
    // chains (Horner, divisions); one, two and four vectors per iteration
    // measured within noise of each other (examples/vmath_speed.rs, Zen 5):
    // the out-of-order window, not the unrolling, finds the parallelism.
    let math = kinds.contains(&Lowering::Math);
    let unroll = match applied.len() {
        _ if calls => 1,
        _ if math => 2,
        0..=24 => 4,
        25..=64 => 2,
        _ => 1,
    };

    let mut b = FunctionBuilder::new(out, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params: [CValue; 7] = std::array::from_fn(|i| b.block_params(entry)[i]);
    let pool = if math {
        let id = module
            .declare_anonymous_data(false, false)
            .map_err(|e| Error::cranelift(format!("declaring the constant pool: {e}")))?;
        let gv = module.declare_data_in_func(id, b.func);
        let zero = b.declare_var(ptr);
        let z = b.ins().iconst(ptr, 0);
        b.def_var(zero, z);
        let trig = kinds
            .iter()
            .zip(&applied)
            .any(|(k, (op, _))| *k == Lowering::Math && matches!(op, Op::Sin | Op::Cos | Op::Tan));
        let huge = if trig {
            let f = huge_trampoline(module)?;
            let f = module.declare_func_in_func(f, b.func);
            let slot = b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                vmath::HUGE_SLOT,
                4,
            ));
            Some((f, slot))
        } else {
            None
        };
        Some(Pool {
            id,
            gv,
            zero,
            huge,
            consts: vmath::ConstPool::default(),
        })
    } else {
        None
    };
    let mut l = Lower {
        b,
        module,
        f,
        lanes,
        default_w: widest,
        imports: HashMap::new(),
        ptr,
        accuracy: opts.accuracy,
        math_fma: vmath::use_fma(has_fma),
        pool,
    };
    let shape = Shape { lanes, unroll };
    l.body(&live, &uses, layouts, opts.fma && has_fma, shape, params)?;
    l.b.seal_all_blocks();
    let config = l.module.target_config();
    l.b.finalize(config);
    if let Some(pool) = l.pool {
        let mut data = DataDescription::new();
        data.define(pool.consts.bytes.into_boxed_slice());
        data.set_align(16);
        l.module
            .define_data(pool.id, &data)
            .map_err(|e| Error::cranelift(format!("defining the constant pool: {e}")))?;
    }
    Ok(shape)
}

/// Per-parameter state of the loops.
#[derive(Clone, Copy)]
enum Input {
    Unused,
    /// A pointer bumped by the loops, and (strided) its byte stride.
    Moving {
        var: Variable,
        stride: Option<CValue>,
    },
    /// Loaded once: the scalar and its splat.
    Fixed {
        scalar: CValue,
        vector: CValue,
    },
}

struct Lower<'a, 'b> {
    b: FunctionBuilder<'b>,
    module: &'a mut JITModule,
    f: &'a Func,
    lanes: usize,
    /// Mask width (bytes) of bool values that no operation fixes: params and
    /// constants. The widest element size, so `where` on them needs no
    /// conversion.
    default_w: usize,
    imports: HashMap<String, FuncRef>,
    ptr: Type,
    accuracy: Accuracy,
    /// FMA inside the math routines (the host has it; see `vmath::use_fma`).
    math_fma: bool,
    /// The math routines' constants, when the kernel has any.
    pool: Option<Pool>,
}

/// The constant pool of the math routines: a data object of the kernel's
/// module, addressed as `gv + zero` where `zero` is a loop-carried variable
/// that is always 0 but not provably so, which keeps Cranelift from hoisting
/// the constant loads out of the loops (see `vmath::Vm`).
struct Pool {
    id: DataId,
    gv: GlobalValue,
    zero: Variable,
    /// The trampoline to the huge-argument reduction of sin/cos/tan and its
    /// stack slot, when the kernel has one of them.
    huge: Option<(FuncRef, StackSlot)>,
    consts: vmath::ConstPool,
}

/// Defines, in the kernel's module, a `preserve_all` function that calls
/// `vmath::reduce::exprjit_reduce_lanes` (a C-ABI Rust function) with its
/// pointer argument. The kernel's cold path calls this one: it saves every
/// register it clobbers, so the hot loop keeps its vector values in
/// registers across the branch (a direct call would make the register
/// allocator spill them around it, in the hot path).
fn huge_trampoline(module: &mut JITModule) -> Result<FuncId, Error> {
    let err = |e: cranelift_module::ModuleError| {
        Error::cranelift(format!("defining the reduction trampoline: {e}"))
    };
    let ptr = module.target_config().pointer_type();
    let mut sig = Signature::new(CallConv::PreserveAll);
    sig.params.push(AbiParam::new(ptr));
    let id = module.declare_anonymous_function(&sig).map_err(err)?;
    let mut callee_sig = module.make_signature();
    callee_sig.params.push(AbiParam::new(ptr));
    let callee = module
        .declare_function(symbols::REDUCE_LANES, Linkage::Import, &callee_sig)
        .map_err(err)?;
    let mut ctx = module.make_context();
    ctx.func.signature = sig;
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    let p = b.block_params(block)[0];
    let callee = module.declare_func_in_func(callee, b.func);
    b.ins().call(callee, &[p]);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(module.target_config());
    module.define_function(id, &mut ctx).map_err(err)?;
    Ok(id)
}

fn mem() -> MemFlagsData {
    // Every address a kernel touches was bounds-checked by `Kernel::run`;
    // nothing is assumed aligned beyond the element size (vector loads and
    // stores are unaligned moves).
    MemFlagsData::new().with_notrap()
}

fn little() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

fn scalar_ty(dt: DType) -> Type {
    match dt {
        DType::Bool => types::I8,
        DType::I32 => types::I32,
        DType::I64 => types::I64,
        DType::F32 => types::F32,
        DType::F64 => types::F64,
    }
}

/// The register type of a value of dtype `dt` in the vector loop; bools
/// are masks of `w`-byte lanes.
fn vec_ty(dt: DType, w: usize) -> Type {
    match dt {
        DType::Bool => mask_ty(w),
        DType::I32 => types::I32X4,
        DType::I64 => types::I64X2,
        DType::F32 => types::F32X4,
        DType::F64 => types::F64X2,
    }
}

fn mask_ty(w: usize) -> Type {
    if w == 8 { types::I64X2 } else { types::I32X4 }
}

impl Lower<'_, '_> {
    fn vec_ty(&self, dt: DType) -> Type {
        vec_ty(dt, self.default_w)
    }

    fn ty(&self, v: CValue) -> Type {
        self.b.func.dfg.value_type(v)
    }

    /// The lane width in bytes of a vector value (a mask's width).
    fn width(&self, v: CValue) -> usize {
        self.ty(v).lane_bits() as usize / 8
    }

    fn body(
        &mut self,
        live: &[bool],
        uses: &[usize],
        layouts: &[Layout],
        fma: bool,
        shape: Shape,
        [ptrs, strides, out, len, rows, row_strides, out_row_stride]: [CValue; 7],
    ) -> Result<(), Error> {
        let f = self.f;
        let n_params = f.params.len();
        let mut used = vec![false; n_params];
        for (inst, l) in f.insts.iter().zip(live) {
            if let (InstKind::Param(n), true) = (&inst.kind, l) {
                used[*n as usize] = true;
            }
        }
        // Entry block: each used input's first row, its row and element
        // strides; constants; the loop lengths (the same for every row).
        let trusted = MemFlagsData::trusted();
        // Per used input: the variable holding its current row's start,
        // and its byte stride from one row to the next.
        let mut rows_at: Vec<Option<(Variable, CValue)>> = vec![None; n_params];
        let mut elem_strides: Vec<Option<CValue>> = vec![None; n_params];
        for i in 0..n_params {
            if !used[i] {
                continue;
            }
            let off = (i * 8) as i32;
            let base = self.b.ins().load(self.ptr, trusted, ptrs, off);
            let var = self.b.declare_var(self.ptr);
            self.b.def_var(var, base);
            let step = self.b.ins().load(self.ptr, trusted, row_strides, off);
            rows_at[i] = Some((var, step));
            if layouts[i] == Layout::Strided {
                elem_strides[i] = Some(self.b.ins().load(self.ptr, trusted, strides, off));
            }
        }
        let mut consts: HashMap<usize, (CValue, CValue)> = HashMap::new();
        for (i, inst) in f.insts.iter().enumerate() {
            if let (InstKind::Const(c), true) = (&inst.kind, live[i]) {
                let s = self.scalar_const(*c);
                let v = self.splat(c.dtype(), s);
                consts.insert(i, (s, v));
            }
        }
        let rdt = f.result_dtype();
        let rsize = rdt.size() as i64;
        let step = (shape.lanes * shape.unroll) as i64;
        let n_main = self.b.ins().band_imm_s(len, -step);
        let main_bytes = self.b.ins().imul_imm_s(n_main, rsize);
        let all_bytes = self.b.ins().imul_imm_s(len, rsize);
        let out_row = self.b.declare_var(self.ptr);
        self.b.def_var(out_row, out);
        let rows_left = self.b.declare_var(self.ptr);
        self.b.def_var(rows_left, rows);
        let row_head = self.b.create_block();
        let row_next = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(row_head, &[]);

        // Row head: this row's pointers, broadcast values and loop ends.
        self.b.switch_to_block(row_head);
        let mut inputs = vec![Input::Unused; n_params];
        for (i, p) in f.params.iter().enumerate() {
            let Some((row_var, _)) = rows_at[i] else {
                continue;
            };
            let base = self.b.use_var(row_var);
            inputs[i] = match layouts[i] {
                // Loaded once per row (a broadcast column changes by row).
                Layout::Broadcast => {
                    let scalar = self.load_scalar(p.dtype, base);
                    let vector = self.splat(p.dtype, scalar);
                    Input::Fixed { scalar, vector }
                }
                Layout::Contiguous | Layout::Strided => {
                    let var = self.b.declare_var(self.ptr);
                    self.b.def_var(var, base);
                    Input::Moving {
                        var,
                        stride: elem_strides[i],
                    }
                }
            };
        }
        let out = self.b.use_var(out_row);
        let main_end = self.b.ins().iadd(out, main_bytes);
        let end = self.b.ins().iadd(out, all_bytes);
        let out_var = self.b.declare_var(self.ptr);
        self.b.def_var(out_var, out);

        // PERF: with 4 vectors per main-loop iteration, up to 7 elements
        // (f64) are left for the scalar loop; a stencil's short rows pay
        // that on every row (~10% of a 1024-wide diffusion step). A loop of
        // one vector per iteration takes whole vectors of the rest. Not for
        // the math routines (unroll 2, and a third copy of a long routine
        // costs compile time).
        let single = shape.unroll > 1 && self.pool.is_none();
        let main = self.b.create_block();
        let rem_check = self.b.create_block();
        let rem = self.b.create_block();
        let after_main = if single {
            self.b.create_block()
        } else {
            rem_check
        };
        // PERF: peel single elements until the output is 16-byte aligned
        // (cheap kernels): a stencil's interior starts at column 1, so
        // without this every vector store (and the centre's loads) of a
        // row straddles two 16-byte halves, and one in four two cache
        // lines.
        let main_end = if single && rsize < 16 {
            let peel_check = self.b.create_block();
            let peel = self.b.create_block();
            let main_check = self.b.create_block();
            self.b.ins().jump(peel_check, &[]);
            self.b.switch_to_block(peel_check);
            let o = self.b.use_var(out_var);
            let mis = self.b.ins().band_imm_s(o, 15);
            let c = self.b.ins().icmp_imm_s(IntCC::NotEqual, mis, 0);
            let more = self.b.ins().icmp(IntCC::UnsignedLessThan, o, end);
            let c = self.b.ins().band(c, more);
            self.b.ins().brif(c, peel, &[], main_check, &[]);
            self.b.switch_to_block(peel);
            self.scalar_iteration(live, uses, fma, &inputs, &consts, out_var)?;
            self.b.ins().jump(peel_check, &[]);
            self.b.switch_to_block(main_check);
            let o = self.b.use_var(out_var);
            let rest = self.b.ins().isub(end, o);
            let whole = self.b.ins().band_imm_s(rest, -(step * rsize));
            let main_end = self.b.ins().iadd(o, whole);
            let c = self.b.ins().icmp(IntCC::UnsignedLessThan, o, main_end);
            self.b.ins().brif(c, main, &[], after_main, &[]);
            main_end
        } else {
            let c = self.b.ins().icmp(IntCC::UnsignedLessThan, out, main_end);
            self.b.ins().brif(c, main, &[], after_main, &[]);
            main_end
        };

        // Main loop: `unroll` vectors of `lanes` elements per iteration.
        self.b.switch_to_block(main);
        self.vector_iteration(live, uses, fma, &inputs, &consts, out_var, shape, out)?;
        let o2 = self.b.use_var(out_var);
        let c = self.b.ins().icmp(IntCC::UnsignedLessThan, o2, main_end);
        self.b.ins().brif(c, main, &[], after_main, &[]);

        if single {
            // Whole vectors of what is left, one per iteration.
            let one = Shape {
                lanes: shape.lanes,
                unroll: 1,
            };
            let vec_loop = self.b.create_block();
            self.b.switch_to_block(after_main);
            let o = self.b.use_var(out_var);
            let rest = self.b.ins().isub(end, o);
            let whole = self.b.ins().band_imm_s(rest, -(shape.lanes as i64 * rsize));
            let vec_end = self.b.ins().iadd(o, whole);
            let c = self.b.ins().icmp(IntCC::UnsignedLessThan, o, vec_end);
            self.b.ins().brif(c, vec_loop, &[], rem_check, &[]);
            self.b.switch_to_block(vec_loop);
            self.vector_iteration(live, uses, fma, &inputs, &consts, out_var, one, out)?;
            let o2 = self.b.use_var(out_var);
            let c = self.b.ins().icmp(IntCC::UnsignedLessThan, o2, vec_end);
            self.b.ins().brif(c, vec_loop, &[], rem_check, &[]);
        }

        // Remainder: one element per iteration.
        self.b.switch_to_block(rem_check);
        let o = self.b.use_var(out_var);
        let c = self.b.ins().icmp(IntCC::UnsignedLessThan, o, end);
        self.b.ins().brif(c, rem, &[], row_next, &[]);

        self.b.switch_to_block(rem);
        self.scalar_iteration(live, uses, fma, &inputs, &consts, out_var)?;
        let o2 = self.b.use_var(out_var);
        let c = self.b.ins().icmp(IntCC::UnsignedLessThan, o2, end);
        self.b.ins().brif(c, rem, &[], row_next, &[]);

        // Next row: every row pointer one row stride on.
        self.b.switch_to_block(row_next);
        for (var, step) in rows_at.iter().flatten() {
            let p = self.b.use_var(*var);
            let p = self.b.ins().iadd(p, *step);
            self.b.def_var(*var, p);
        }
        let o = self.b.use_var(out_row);
        let o = self.b.ins().iadd(o, out_row_stride);
        self.b.def_var(out_row, o);
        let left = self.b.use_var(rows_left);
        let left = self.b.ins().iadd_imm_s(left, -1);
        self.b.def_var(rows_left, left);
        self.b.ins().brif(left, row_head, &[], exit, &[]);

        self.b.switch_to_block(exit);
        self.b.ins().return_(&[]);
        Ok(())
    }

    /// One iteration of the scalar loop: one element of every moving input
    /// loaded, computed and stored at `out_var`, then the pointers and
    /// `out_var` advanced past it.
    fn scalar_iteration(
        &mut self,
        live: &[bool],
        uses: &[usize],
        fma: bool,
        inputs: &[Input],
        consts: &HashMap<usize, (CValue, CValue)>,
        out_var: Variable,
    ) -> Result<(), Error> {
        let f = self.f;
        let rsize = f.result_dtype().size() as i64;
        let o = self.b.use_var(out_var);
        let mut vals: Vec<Option<CValue>> = vec![None; f.params.len()];
        for (i, input) in inputs.iter().enumerate() {
            vals[i] = match *input {
                Input::Unused => None,
                Input::Fixed { scalar, .. } => Some(scalar),
                Input::Moving { var, stride } => {
                    let dt = f.params[i].dtype;
                    let p = self.b.use_var(var);
                    let v = self.load_scalar(dt, p);
                    let next = match stride {
                        Some(s) => self.b.ins().iadd(p, s),
                        None => self.b.ins().iadd_imm_s(p, dt.size() as i64),
                    };
                    self.b.def_var(var, next);
                    Some(v)
                }
            };
        }
        let r = self.compute(Mode::Scalar, live, uses, fma, &vals, consts, 0)?;
        self.b.ins().store(mem(), r, o, 0);
        let o2 = self.b.ins().iadd_imm_s(o, rsize);
        self.b.def_var(out_var, o2);
        self.keep_pool_in_loop(o2);
        Ok(())
    }

    /// One iteration of a vector loop: `shape.unroll` vectors loaded,
    /// computed and stored at `out_var`, then every moving pointer and
    /// `out_var` advanced past them.
    #[allow(clippy::too_many_arguments)]
    fn vector_iteration(
        &mut self,
        live: &[bool],
        uses: &[usize],
        fma: bool,
        inputs: &[Input],
        consts: &HashMap<usize, (CValue, CValue)>,
        out_var: Variable,
        shape: Shape,
        out: CValue,
    ) -> Result<(), Error> {
        let f = self.f;
        let n_params = f.params.len();
        let rdt = f.result_dtype();
        let rsize = rdt.size() as i64;
        let step = (shape.lanes * shape.unroll) as i64;
        let o = self.b.use_var(out_var);
        let mut moved: Vec<Option<CValue>> = vec![None; n_params];
        for (i, input) in inputs.iter().enumerate() {
            if let Input::Moving { var, .. } = input {
                moved[i] = Some(self.b.use_var(*var));
            }
        }
        for u in 0..shape.unroll {
            let mut vals: Vec<Option<CValue>> = vec![None; n_params];
            for (i, input) in inputs.iter().enumerate() {
                let dt = f.params[i].dtype;
                vals[i] = match *input {
                    Input::Unused => None,
                    Input::Fixed { vector, .. } => Some(vector),
                    Input::Moving { stride: None, .. } => {
                        let off = (u * shape.lanes * dt.size()) as i32;
                        let p = moved[i].unwrap_or(out);
                        Some(self.load_vector(dt, p, off))
                    }
                    Input::Moving {
                        stride: Some(s), ..
                    } => {
                        let p = moved[i].unwrap_or(out);
                        let (v, next) = self.load_strided(dt, p, s);
                        moved[i] = Some(next);
                        Some(v)
                    }
                };
            }
            let r = self.compute(Mode::Vector, live, uses, fma, &vals, consts, 1)?;
            let off = (u as i64 * shape.lanes as i64 * rsize) as i32;
            self.store_vector(rdt, r, o, off);
        }
        let o2 = self.b.ins().iadd_imm_s(o, step * rsize);
        self.b.def_var(out_var, o2);
        for (i, input) in inputs.iter().enumerate() {
            if let (Input::Moving { var, stride }, Some(p)) = (input, moved[i]) {
                let next = match stride {
                    // The strided chain already ends one step further.
                    Some(_) => p,
                    None => self
                        .b
                        .ins()
                        .iadd_imm_s(p, step * f.params[i].dtype.size() as i64),
                };
                self.b.def_var(*var, next);
            }
        }
        self.keep_pool_in_loop(o2);
        Ok(())
    }

    /// Updates the pool's zero at the end of a loop body: `min(zero, p)`
    /// is 0, but Cranelift cannot tell, so the loads stay in the loop.
    fn keep_pool_in_loop(&mut self, p: CValue) {
        if let Some(pool) = &self.pool {
            let z = self.b.use_var(pool.zero);
            let z = self.b.ins().umin(z, p);
            self.b.def_var(pool.zero, z);
        }
    }

    /// Computes one element (scalar) or one vector of the result from the
    /// loaded parameters.
    #[allow(clippy::too_many_arguments)]
    fn compute(
        &mut self,
        mode: Mode,
        live: &[bool],
        uses: &[usize],
        fma: bool,
        params: &[Option<CValue>],
        consts: &HashMap<usize, (CValue, CValue)>,
        pick: usize,
    ) -> Result<CValue, Error> {
        let f = self.f;
        let mut vals: Vec<Option<CValue>> = vec![None; f.insts.len()];
        let missing = |what: &str| Error::cranelift(format!("internal: {what} not lowered"));
        for (i, inst) in f.insts.iter().enumerate() {
            if !live[i] {
                continue;
            }
            let v = match &inst.kind {
                InstKind::Param(n) => params[*n as usize].ok_or_else(|| missing("parameter"))?,
                InstKind::Const(_) => {
                    let (s, v) = consts.get(&i).ok_or_else(|| missing("constant"))?;
                    if pick == 0 { *s } else { *v }
                }
                InstKind::Apply(op, args) => {
                    let a: Vec<CValue> = args
                        .iter()
                        .map(|a| vals[a.index()].ok_or_else(|| missing("operand")))
                        .collect::<Result<_, _>>()?;
                    let dt = match op {
                        Op::Where => f.dtype(args[1]),
                        _ => f.dtype(args[0]),
                    };
                    if let Some(k) = self.int_exponent(*op, dt, args) {
                        self.math(mode, Op::Pow, dt, &a[..1], Some(k))?
                    } else {
                        match self.contract(fma, *op, dt, args, uses, &vals, &a) {
                            Some(v) => v,
                            None => self.apply(mode, *op, dt, &a, inst.dtype)?,
                        }
                    }
                }
            };
            vals[i] = Some(v);
        }
        vals[f.result.index()].ok_or_else(|| missing("result"))
    }

    /// `a * b + c` as one fused multiply-add, when allowed (`Options::fma`
    /// and a host FMA unit) and the product has no other use.
    #[allow(clippy::too_many_arguments)]
    fn contract(
        &mut self,
        fma: bool,
        op: Op,
        dt: DType,
        args: &[exprjit_ir::Value],
        uses: &[usize],
        vals: &[Option<CValue>],
        a: &[CValue],
    ) -> Option<CValue> {
        if !fma || op != Op::Add || !dt.is_float() {
            return None;
        }
        for (k, other) in [(0, 1), (1, 0)] {
            if let InstKind::Apply(Op::Mul, m) = &self.f.inst(args[k]).kind
                && uses[args[k].index()] == 1
            {
                let (x, y) = (vals[m[0].index()]?, vals[m[1].index()]?);
                return Some(self.b.ins().fma(x, y, a[other]));
            }
        }
        None
    }

    // ----- loads, stores, constants -----------------------------------

    /// One element at `p`; bools become 0 / 1 (any nonzero byte is true).
    fn load_scalar(&mut self, dt: DType, p: CValue) -> CValue {
        let x = self.b.ins().load(scalar_ty(dt), mem(), p, 0);
        match dt {
            DType::Bool => self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0),
            _ => x,
        }
    }

    /// `lanes` contiguous elements at `p + off`.
    fn load_vector(&mut self, dt: DType, p: CValue, off: i32) -> CValue {
        let bytes = self.lanes * dt.size();
        match (dt, bytes) {
            (DType::Bool, _) => {
                let ty = if self.lanes == 2 {
                    types::I16
                } else {
                    types::I32
                };
                let x = self.b.ins().load(ty, mem(), p, off);
                let v = self
                    .b
                    .ins()
                    .scalar_to_vector(ty.by(16 / ty.bytes()).unwrap_or(ty), x);
                let v = self.b.ins().bitcast(types::I8X16, little(), v);
                self.bytes_to_mask(v, self.default_w)
            }
            (_, 16) => self.b.ins().load(vec_ty(dt, self.default_w), mem(), p, off),
            _ => {
                let x = self.b.ins().load(types::I64, mem(), p, off);
                let v = self.b.ins().scalar_to_vector(types::I64X2, x);
                self.b
                    .ins()
                    .bitcast(vec_ty(dt, self.default_w), little(), v)
            }
        }
    }

    /// Spreads bytes 0 / nonzero in the low lanes of `v` into a mask of
    /// lanes `w` bytes wide.
    fn bytes_to_mask(&mut self, v: CValue, w: usize) -> CValue {
        let mut idx = [16u8; 16];
        for k in 0..16 / w {
            idx[k * w] = k as u8;
        }
        let zero = self.zero_vec(types::I8X16);
        let spread = self.shuffle(v, zero, idx);
        let m = self.b.ins().bitcast(mask_ty(w), little(), spread);
        let z = self.zero_vec(mask_ty(w));
        self.b.ins().icmp(IntCC::NotEqual, m, z)
    }

    /// `lanes` elements at `p, p + s, ...`; also returns `p + lanes * s`.
    fn load_strided(&mut self, dt: DType, mut p: CValue, s: CValue) -> (CValue, CValue) {
        let lane_ty = match dt {
            DType::Bool => mask_ty(self.default_w).lane_type(),
            _ => scalar_ty(dt),
        };
        let vty = match dt {
            DType::Bool => mask_ty(self.default_w),
            _ => self.vec_ty(dt),
        };
        let mut v = None;
        for k in 0..self.lanes {
            let x = match dt {
                DType::Bool => self.b.ins().uload8(lane_ty, mem(), p, 0),
                _ => self.b.ins().load(lane_ty, mem(), p, 0),
            };
            v = Some(match v {
                None => self.b.ins().scalar_to_vector(vty, x),
                Some(v) => self.b.ins().insertlane(v, x, k as u8),
            });
            p = self.b.ins().iadd(p, s);
        }
        let v = v.unwrap_or(p);
        let v = match dt {
            DType::Bool => {
                let z = self.zero_vec(vty);
                self.b.ins().icmp(IntCC::NotEqual, v, z)
            }
            _ => v,
        };
        (v, p)
    }

    /// Stores the `lanes` low lanes of `v` (bools as bytes 0 / 1).
    fn store_vector(&mut self, dt: DType, v: CValue, p: CValue, off: i32) {
        if dt == DType::Bool {
            let w = self.width(v);
            let bytes = self.b.ins().bitcast(types::I8X16, little(), v);
            let mut idx = [0u8; 16];
            for (k, i) in idx.iter_mut().take(self.lanes).enumerate() {
                *i = (k * w) as u8;
            }
            let packed = self.shuffle(bytes, bytes, idx);
            let one = self.b.ins().iconst(types::I8, 1);
            let ones = self.b.ins().splat(types::I8X16, one);
            let bits = self.b.ins().band(packed, ones);
            let ty = if self.lanes == 2 {
                types::I16X8
            } else {
                types::I32X4
            };
            let as_lanes = self.b.ins().bitcast(ty, little(), bits);
            let x = self.b.ins().extractlane(as_lanes, 0);
            self.b.ins().store(mem(), x, p, off);
            return;
        }
        if self.lanes * dt.size() == 16 {
            self.b.ins().store(mem(), v, p, off);
        } else {
            let v = self.b.ins().bitcast(types::I64X2, little(), v);
            let x = self.b.ins().extractlane(v, 0);
            self.b.ins().store(mem(), x, p, off);
        }
    }

    fn shuffle(&mut self, a: CValue, b: CValue, idx: [u8; 16]) -> CValue {
        let imm = self
            .b
            .func
            .dfg
            .immediates
            .push(ConstantData::from(idx.to_vec()));
        self.b.ins().shuffle(a, b, imm)
    }

    fn zero_vec(&mut self, ty: Type) -> CValue {
        let c = self
            .b
            .func
            .dfg
            .constants
            .insert(ConstantData::from(vec![0u8; 16]));
        self.b.ins().vconst(ty, c)
    }

    fn scalar_const(&mut self, c: Scalar) -> CValue {
        match c {
            Scalar::Bool(x) => self.b.ins().iconst(types::I8, i64::from(x)),
            Scalar::I32(x) => self.b.ins().iconst(types::I32, i64::from(x)),
            Scalar::I64(x) => self.b.ins().iconst(types::I64, x),
            Scalar::F32(x) => self.b.ins().f32const(Ieee32::with_bits(x.to_bits())),
            Scalar::F64(x) => self.b.ins().f64const(Ieee64::with_bits(x.to_bits())),
        }
    }

    /// The vector of `lanes` copies of scalar `s` (a bool 0 / 1 becomes a
    /// mask of the default width).
    fn splat(&mut self, dt: DType, s: CValue) -> CValue {
        match dt {
            DType::Bool => {
                let lane = mask_ty(self.default_w).lane_type();
                let e = self.b.ins().uextend(lane, s);
                let m = self.b.ins().ineg(e);
                self.b.ins().splat(mask_ty(self.default_w), m)
            }
            _ => self.b.ins().splat(vec_ty(dt, self.default_w), s),
        }
    }

    /// Integer constant of dtype `dt` in the shape of `mode`.
    fn iconst(&mut self, mode: Mode, dt: DType, x: i64) -> CValue {
        let s = self.b.ins().iconst(scalar_ty(dt), x);
        match mode {
            Mode::Scalar => s,
            Mode::Vector => self.b.ins().splat(vec_ty(dt, self.default_w), s),
        }
    }

    /// Float constant of dtype `dt` in the shape of `mode`.
    fn fconst(&mut self, mode: Mode, dt: DType, x: f64) -> CValue {
        let s = match dt {
            DType::F32 => self.b.ins().f32const(x as f32),
            _ => self.b.ins().f64const(x),
        };
        match mode {
            Mode::Scalar => s,
            Mode::Vector => self.b.ins().splat(vec_ty(dt, self.default_w), s),
        }
    }

    // ----- masks and bools ----------------------------------------------

    /// A vector mask converted to lanes of `w` bytes.
    fn coerce_mask(&mut self, m: CValue, w: usize) -> CValue {
        match (self.width(m), w) {
            (4, 8) => self.b.ins().swiden_low(m),
            (8, 4) => self.narrow_64_to_32(m),
            _ => m,
        }
    }

    /// The low 32 bits of each 64-bit lane, packed into the low lanes.
    fn narrow_64_to_32(&mut self, v: CValue) -> CValue {
        let bytes = self.b.ins().bitcast(types::I8X16, little(), v);
        let idx = [0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11];
        let packed = self.shuffle(bytes, bytes, idx);
        self.b.ins().bitcast(types::I32X4, little(), packed)
    }

    fn bool_not(&mut self, mode: Mode, x: CValue) -> CValue {
        match mode {
            Mode::Scalar => self.b.ins().bxor_imm_s(x, 1),
            Mode::Vector => self.b.ins().bnot(x),
        }
    }

    /// Two bool operands brought to one mask width (vector mode).
    fn bools(&mut self, mode: Mode, a: CValue, b: CValue) -> (CValue, CValue) {
        match mode {
            Mode::Scalar => (a, b),
            Mode::Vector => {
                let w = self.width(a);
                (a, self.coerce_mask(b, w))
            }
        }
    }

    /// `cond ? x : y` lane by lane; `cond` is a bool (0 / 1 or a mask).
    fn select(&mut self, mode: Mode, cond: CValue, x: CValue, y: CValue) -> CValue {
        match mode {
            Mode::Scalar => self.b.ins().select(cond, x, y),
            Mode::Vector => {
                let ty = self.ty(x);
                let c = self.coerce_mask(cond, ty.lane_bits() as usize / 8);
                let c = if self.ty(c) == ty {
                    c
                } else {
                    self.b.ins().bitcast(ty, little(), c)
                };
                self.b.ins().bitselect(c, x, y)
            }
        }
    }

    // ----- calls ----------------------------------------------------------

    fn import(&mut self, name: &str, params: &[Type], ret: Type) -> Result<FuncRef, Error> {
        if let Some(r) = self.imports.get(name) {
            return Ok(*r);
        }
        let mut sig = Signature::new(self.module.isa().default_call_conv());
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns.push(AbiParam::new(ret));
        let id = self
            .module
            .declare_function(name, Linkage::Import, &sig)
            .map_err(|e| Error::cranelift(format!("declaring {name}: {e}")))?;
        let r = self.module.declare_func_in_func(id, self.b.func);
        self.imports.insert(name.to_owned(), r);
        Ok(r)
    }

    fn call(&mut self, name: &str, args: &[CValue]) -> Result<CValue, Error> {
        let params: Vec<Type> = args.iter().map(|a| self.ty(*a)).collect();
        let ret = params[params.len() - 1];
        let r = self.import(name, &params, ret)?;
        let inst = self.b.ins().call(r, args);
        Ok(self.b.inst_results(inst)[0])
    }

    /// Calls helper `h` for scalar operands of dtype `dt`.
    fn helper(&mut self, h: Helper, dt: DType, args: &[CValue]) -> Result<CValue, Error> {
        self.call(&h.symbol(dt), args)
    }

    /// Calls the operator table's libm function of `op` through the
    /// trampoline (see `symbols`).
    fn libm(&mut self, op: Op, dt: DType, args: &[CValue]) -> Result<CValue, Error> {
        let ty = scalar_ty(dt);
        let target = self.import(&symbols::libm_symbol(op, dt), &vec![ty; args.len()], ty)?;
        let addr = self.b.ins().func_addr(self.ptr, target);
        let mut all = vec![addr];
        all.extend_from_slice(args);
        let h = if args.len() == 1 {
            Helper::Call1
        } else {
            Helper::Call2
        };
        self.helper(h, dt, &all)
    }

    // ----- operations -----------------------------------------------------

    /// Lowers `op` on operands of dtype `dt` with result dtype `rdt`.
    fn apply(
        &mut self,
        mode: Mode,
        op: Op,
        dt: DType,
        a: &[CValue],
        rdt: DType,
    ) -> Result<CValue, Error> {
        if lowering_for(op, dt, self.accuracy) == Lowering::Math {
            return self.math(mode, op, dt, a, None);
        }
        if mode == Mode::Vector && lowering(op, dt) != Lowering::Vector {
            return self.per_lane(op, dt, a, rdt);
        }
        let float = dt.is_float();
        let v = match op {
            Op::Add if float => self.b.ins().fadd(a[0], a[1]),
            Op::Add => self.b.ins().iadd(a[0], a[1]),
            Op::Sub if float => self.b.ins().fsub(a[0], a[1]),
            Op::Sub => self.b.ins().isub(a[0], a[1]),
            Op::Mul if float => self.b.ins().fmul(a[0], a[1]),
            Op::Mul => self.b.ins().imul(a[0], a[1]),
            Op::Div => self.b.ins().fdiv(a[0], a[1]),
            Op::FloorDiv if float => self.helper(Helper::FloorDiv, dt, a)?,
            Op::FloorDiv => self.int_div(dt, a[0], a[1], IntDiv::Floor),
            Op::Mod if float => self.helper(Helper::Mod, dt, a)?,
            Op::Mod => self.int_div(dt, a[0], a[1], IntDiv::Mod),
            Op::Fmod if float => self.helper(Helper::Fmod, dt, a)?,
            Op::Fmod => self.int_div(dt, a[0], a[1], IntDiv::Fmod),
            Op::Pow if float => self.libm(op, dt, a)?,
            Op::Pow => self.helper(Helper::Pow, dt, a)?,
            Op::Neg if float => match self.sign_mask(mode, dt, false) {
                Some(m) => self.b.ins().bxor(a[0], m),
                None => self.b.ins().fneg(a[0]),
            },
            Op::Neg => self.b.ins().ineg(a[0]),
            Op::Not if dt == DType::Bool => self.bool_not(mode, a[0]),
            Op::Not => self.b.ins().bnot(a[0]),
            Op::Abs if float => match self.sign_mask(mode, dt, true) {
                Some(m) => self.b.ins().band(a[0], m),
                None => self.b.ins().fabs(a[0]),
            },
            Op::Abs if dt == DType::Bool => a[0],
            Op::Abs => self.b.ins().iabs(a[0]),
            Op::Sign if float => self.float_sign(mode, dt, a[0]),
            Op::Sign => {
                let lo = self.iconst(mode, dt, -1);
                let hi = self.iconst(mode, dt, 1);
                let x = self.b.ins().smax(a[0], lo);
                self.b.ins().smin(x, hi)
            }
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                self.compare(mode, op, dt, a[0], a[1])
            }
            Op::And if dt == DType::Bool => {
                let (x, y) = self.bools(mode, a[0], a[1]);
                self.b.ins().band(x, y)
            }
            Op::And => self.b.ins().band(a[0], a[1]),
            Op::Or if dt == DType::Bool => {
                let (x, y) = self.bools(mode, a[0], a[1]);
                self.b.ins().bor(x, y)
            }
            Op::Or => self.b.ins().bor(a[0], a[1]),
            Op::Xor if dt == DType::Bool => {
                let (x, y) = self.bools(mode, a[0], a[1]);
                self.b.ins().bxor(x, y)
            }
            Op::Xor => self.b.ins().bxor(a[0], a[1]),
            Op::Shl | Op::Shr => {
                let bits = (dt.size() * 8) as i64;
                let in_range = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, a[1], bits);
                let (shifted, out) = if op == Op::Shl {
                    (
                        self.b.ins().ishl(a[0], a[1]),
                        self.b.ins().iconst(scalar_ty(dt), 0),
                    )
                } else {
                    (
                        self.b.ins().sshr(a[0], a[1]),
                        self.b.ins().sshr_imm_s(a[0], bits - 1),
                    )
                };
                self.b.ins().select(in_range, shifted, out)
            }
            Op::Where => {
                let (x, y) = if dt == DType::Bool {
                    self.bools(mode, a[1], a[2])
                } else {
                    (a[1], a[2])
                };
                self.select(mode, a[0], x, y)
            }
            Op::Maximum | Op::Minimum if float => {
                // numpy: `a >= b || isnan(a) ? a : b` (and `<=` for minimum);
                // not Cranelift's fmax, which orders -0.0 < 0.0.
                let cc = if op == Op::Maximum {
                    FloatCC::GreaterThanOrEqual
                } else {
                    FloatCC::LessThanOrEqual
                };
                let ord = self.b.ins().fcmp(cc, a[0], a[1]);
                let nan = self.b.ins().fcmp(FloatCC::Unordered, a[0], a[0]);
                let c = self.b.ins().bor(ord, nan);
                self.select(mode, c, a[0], a[1])
            }
            Op::Maximum | Op::Minimum if dt == DType::Bool => {
                let (x, y) = self.bools(mode, a[0], a[1]);
                if op == Op::Maximum {
                    self.b.ins().bor(x, y)
                } else {
                    self.b.ins().band(x, y)
                }
            }
            Op::Maximum => self.b.ins().smax(a[0], a[1]),
            Op::Minimum => self.b.ins().smin(a[0], a[1]),
            Op::Sqrt => self.b.ins().sqrt(a[0]),
            Op::Exp | Op::Expm1 | Op::Log | Op::Log1p | Op::Log10 | Op::Log2 => {
                self.libm(op, dt, a)?
            }
            Op::Sin | Op::Cos | Op::Tan | Op::Arcsin | Op::Arccos | Op::Arctan => {
                self.libm(op, dt, a)?
            }
            Op::Sinh | Op::Cosh | Op::Tanh | Op::Arcsinh | Op::Arccosh | Op::Arctanh => {
                self.libm(op, dt, a)?
            }
            Op::Hypot | Op::Arctan2 => self.libm(op, dt, a)?,
            Op::Floor if float => self.b.ins().floor(a[0]),
            Op::Ceil if float => self.b.ins().ceil(a[0]),
            Op::Trunc if float => self.b.ins().trunc(a[0]),
            // Ties to even, as `round_ties_even` (and numpy's `round`).
            Op::Round if float => self.b.ins().nearest(a[0]),
            Op::Floor | Op::Ceil | Op::Trunc | Op::Round => a[0],
            Op::Signbit => {
                let ity = match mode {
                    Mode::Scalar => scalar_ty(if dt == DType::F32 {
                        DType::I32
                    } else {
                        DType::I64
                    }),
                    Mode::Vector => mask_ty(dt.size()),
                };
                let bits = self.b.ins().bitcast(ity, little(), a[0]);
                match mode {
                    Mode::Scalar => self.b.ins().icmp_imm_s(IntCC::SignedLessThan, bits, 0),
                    Mode::Vector => {
                        let z = self.zero_vec(ity);
                        self.b.ins().icmp(IntCC::SignedLessThan, bits, z)
                    }
                }
            }
            Op::Isnan => self.b.ins().fcmp(FloatCC::Unordered, a[0], a[0]),
            Op::Isinf | Op::Isfinite => {
                let abs = self.b.ins().fabs(a[0]);
                let inf = self.fconst(mode, dt, f64::INFINITY);
                let cc = if op == Op::Isinf {
                    FloatCC::Equal
                } else {
                    FloatCC::LessThan
                };
                self.b.ins().fcmp(cc, abs, inf)
            }
            Op::Copysign => match mode {
                Mode::Scalar => self.b.ins().fcopysign(a[0], a[1]),
                Mode::Vector => {
                    // x86 has no vector copysign: select the sign bit.
                    let sign = self.fconst(mode, dt, -0.0);
                    self.b.ins().bitselect(sign, a[1], a[0])
                }
            },
            Op::Nextafter => self.helper(Helper::Nextafter, dt, a)?,
            Op::Cast(to) => self.cast(mode, dt, to, a[0]),
        };
        Ok(v)
    }

    fn compare(&mut self, mode: Mode, op: Op, dt: DType, x: CValue, y: CValue) -> CValue {
        if dt == DType::Bool {
            // false < true; with 0 / 1 bytes and with masks alike:
            // x < y is !x & y, x <= y is !x | y, x == y is !(x ^ y).
            let (x, y) = self.bools(mode, x, y);
            return match op {
                Op::Eq => {
                    let d = self.b.ins().bxor(x, y);
                    self.bool_not(mode, d)
                }
                Op::Ne => self.b.ins().bxor(x, y),
                Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                    let (lo, hi) = if matches!(op, Op::Lt | Op::Le) {
                        (x, y)
                    } else {
                        (y, x)
                    };
                    let nlo = self.bool_not(mode, lo);
                    if matches!(op, Op::Lt | Op::Gt) {
                        self.b.ins().band(nlo, hi)
                    } else {
                        self.b.ins().bor(nlo, hi)
                    }
                }
                _ => x,
            };
        }
        if dt.is_float() {
            let cc = match op {
                Op::Eq => FloatCC::Equal,
                // Unordered or not equal: NaN != x is true.
                Op::Ne => FloatCC::NotEqual,
                Op::Lt => FloatCC::LessThan,
                Op::Le => FloatCC::LessThanOrEqual,
                Op::Gt => FloatCC::GreaterThan,
                _ => FloatCC::GreaterThanOrEqual,
            };
            self.b.ins().fcmp(cc, x, y)
        } else {
            let cc = match op {
                Op::Eq => IntCC::Equal,
                Op::Ne => IntCC::NotEqual,
                Op::Lt => IntCC::SignedLessThan,
                Op::Le => IntCC::SignedLessThanOrEqual,
                Op::Gt => IntCC::SignedGreaterThan,
                _ => IntCC::SignedGreaterThanOrEqual,
            };
            self.b.ins().icmp(cc, x, y)
        }
    }

    /// numpy's float `sign`: 1, -1, +0.0 for both zeros, NaN stays.
    fn float_sign(&mut self, mode: Mode, dt: DType, x: CValue) -> CValue {
        let zero = self.fconst(mode, dt, 0.0);
        let one = self.fconst(mode, dt, 1.0);
        let minus = self.fconst(mode, dt, -1.0);
        let pos = self.b.ins().fcmp(FloatCC::GreaterThan, x, zero);
        let neg = self.b.ins().fcmp(FloatCC::LessThan, x, zero);
        let is_zero = self.b.ins().fcmp(FloatCC::Equal, x, zero);
        let r = self.select(mode, is_zero, zero, x);
        let r = self.select(mode, neg, minus, r);
        self.select(mode, pos, one, r)
    }

    /// Total integer division (scalar only): by zero gives 0, `MIN / -1`
    /// wraps, never a trap. The divisor is replaced by 1 where it is 0 or
    /// -1, and the -1 case is a wrapping negation.
    fn int_div(&mut self, dt: DType, a: CValue, b: CValue, kind: IntDiv) -> CValue {
        let ty = scalar_ty(dt);
        let zero = self.b.ins().iconst(ty, 0);
        let one = self.b.ins().iconst(ty, 1);
        let b_zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        let b_m1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
        let bad = self.b.ins().bor(b_zero, b_m1);
        let safe = self.b.ins().select(bad, one, b);
        // With `safe` never 0 or -1, `srem` cannot trap; a % 1 == 0 is the
        // right remainder for b == -1 and the wanted 0 for b == 0.
        let r = self.b.ins().srem(a, safe);
        // Python's adjustment: the remainder takes the divisor's sign.
        let r_nz = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let rb = self.b.ins().bxor(r, b);
        let signs_differ = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, rb, 0);
        let adjust = self.b.ins().band(r_nz, signs_differ);
        match kind {
            IntDiv::Fmod => r,
            IntDiv::Mod => {
                let rb = self.b.ins().iadd(r, b);
                self.b.ins().select(adjust, rb, r)
            }
            IntDiv::Floor => {
                let q = self.b.ins().sdiv(a, safe);
                let neg = self.b.ins().ineg(a);
                let q = self.b.ins().select(b_m1, neg, q);
                let q1 = self.b.ins().iadd_imm_s(q, -1);
                let q = self.b.ins().select(adjust, q1, q);
                self.b.ins().select(b_zero, zero, q)
            }
        }
    }

    fn cast(&mut self, mode: Mode, from: DType, to: DType, x: CValue) -> CValue {
        use DType::*;
        match (from, to) {
            (Bool, Bool) | (I32, I32) | (I64, I64) | (F32, F32) | (F64, F64) => x,
            (F32 | F64, Bool) => {
                // Unordered or not equal: NaN is true.
                let z = self.fconst(mode, from, 0.0);
                self.b.ins().fcmp(FloatCC::NotEqual, x, z)
            }
            (I32 | I64, Bool) => {
                let z = self.iconst(mode, from, 0);
                self.b.ins().icmp(IntCC::NotEqual, x, z)
            }
            (Bool, _) => match mode {
                Mode::Scalar if to.is_int() => self.b.ins().uextend(scalar_ty(to), x),
                Mode::Scalar => {
                    let e = self.b.ins().uextend(types::I32, x);
                    self.b.ins().fcvt_from_sint(scalar_ty(to), e)
                }
                Mode::Vector => {
                    // mask & bits(1): 1 or 1.0 where true, 0 or 0.0 where not.
                    let m = self.coerce_mask(x, to.size());
                    let one_bits = match to {
                        F32 => i64::from(1.0f32.to_bits()),
                        F64 => 1.0f64.to_bits() as i64,
                        _ => 1,
                    };
                    let lane = mask_ty(to.size()).lane_type();
                    let c = self.b.ins().iconst(lane, one_bits);
                    let ones = self.b.ins().splat(mask_ty(to.size()), c);
                    let r = self.b.ins().band(m, ones);
                    let vt = self.vec_ty(to);
                    if vt == mask_ty(to.size()) {
                        r
                    } else {
                        self.b.ins().bitcast(vt, little(), r)
                    }
                }
            },
            (I32, I64) => match mode {
                Mode::Scalar => self.b.ins().sextend(types::I64, x),
                Mode::Vector => self.b.ins().swiden_low(x),
            },
            (I64, I32) => match mode {
                Mode::Scalar => self.b.ins().ireduce(types::I32, x),
                Mode::Vector => self.narrow_64_to_32(x),
            },
            (I32, F64) if mode == Mode::Vector => {
                // The pattern Cranelift turns into one cvtdq2pd.
                let w = self.b.ins().swiden_low(x);
                self.b.ins().fcvt_from_sint(types::F64X2, w)
            }
            (I32 | I64, F32 | F64) => {
                let ty = match mode {
                    Mode::Scalar => scalar_ty(to),
                    Mode::Vector => self.vec_ty(to),
                };
                self.b.ins().fcvt_from_sint(ty, x)
            }
            // Truncates, saturates, NaN -> 0: Rust's `as`.
            (F32 | F64, I32 | I64) => {
                let ty = match mode {
                    Mode::Scalar => scalar_ty(to),
                    Mode::Vector => self.vec_ty(to),
                };
                self.b.ins().fcvt_to_sint_sat(ty, x)
            }
            (F32, F64) => match mode {
                Mode::Scalar => self.b.ins().fpromote(types::F64, x),
                Mode::Vector => self.b.ins().fvpromote_low(x),
            },
            (F64, F32) => match mode {
                Mode::Scalar => self.b.ins().fdemote(types::F32, x),
                Mode::Vector => self.b.ins().fvdemote(x),
            },
        }
    }

    /// The sign-bit mask (`!sign` with `invert`) of a float vector, loaded
    /// from the math routines' constant pool when the kernel has one: one
    /// `xorpd`/`andpd` with a memory operand, where Cranelift's `fneg` and
    /// `fabs` rebuild the mask in registers every time (three instructions).
    fn sign_mask(&mut self, mode: Mode, dt: DType, invert: bool) -> Option<CValue> {
        if mode != Mode::Vector {
            return None;
        }
        let pool = self.pool.as_mut()?;
        let lane: u64 = if dt == DType::F32 {
            0x8000_0000_8000_0000
        } else {
            1 << 63
        };
        let lane = if invert { !lane } else { lane };
        let z = self.b.use_var(pool.zero);
        let addr = self.b.ins().symbol_value(self.ptr, pool.gv);
        let base = self.b.ins().iadd(addr, z);
        let off = pool.consts.push(lane, lane);
        let ty = self.vec_ty(dt);
        Some(self.b.ins().load(ty, vmath::pool_flags(), base, off))
    }

    // ----- math routines -------------------------------------------------

    /// `Some(k)` when `op` is a float `**` whose exponent is a constant
    /// integer with `|k| <= vmath::MAX_INT_POW`, under `Accuracy::Fast`.
    fn int_exponent(&self, op: Op, dt: DType, args: &[exprjit_ir::Value]) -> Option<i32> {
        if op != Op::Pow || !dt.is_float() || self.accuracy != Accuracy::Fast {
            return None;
        }
        let k = match self.f.inst(args[1]).kind {
            InstKind::Const(Scalar::F64(k)) => k,
            InstKind::Const(Scalar::F32(k)) => f64::from(k),
            _ => return None,
        };
        let max = f64::from(vmath::MAX_INT_POW);
        (k == k.trunc() && k.abs() <= max).then_some(k as i32)
    }

    /// `op` (or `x ** k` with `powi`) through the math routines, which work
    /// on `f64x2`: `f32` operands are promoted and the result rounded once;
    /// the scalar remainder loop runs the same routine on a splat, so every
    /// element of an array gets the same function whatever its position.
    fn math(
        &mut self,
        mode: Mode,
        op: Op,
        dt: DType,
        a: &[CValue],
        powi: Option<i32>,
    ) -> Result<CValue, Error> {
        let f32 = dt == DType::F32;
        match mode {
            Mode::Scalar => {
                let mut v = Vec::with_capacity(a.len());
                for x in a {
                    let x = if f32 {
                        self.b.ins().fpromote(types::F64, *x)
                    } else {
                        *x
                    };
                    v.push(self.b.ins().splat(types::F64X2, x));
                }
                let r = self.math_f64x2(op, f32, &v, powi)?;
                let r = self.b.ins().extractlane(r, 0);
                Ok(if f32 {
                    self.b.ins().fdemote(types::F32, r)
                } else {
                    r
                })
            }
            Mode::Vector if !f32 => self.math_f64x2(op, false, a, powi),
            Mode::Vector => {
                let lo: Vec<CValue> = a.iter().map(|x| self.b.ins().fvpromote_low(*x)).collect();
                let r = self.math_f64x2(op, true, &lo, powi)?;
                let r_lo = self.b.ins().fvdemote(r);
                if self.lanes == 2 {
                    // The upper two lanes of an f32 value are never stored.
                    return Ok(r_lo);
                }
                let mut hi = Vec::with_capacity(a.len());
                for x in a {
                    let bytes = self.b.ins().bitcast(types::I8X16, little(), *x);
                    let mut idx = [0u8; 16];
                    for (k, i) in idx.iter_mut().enumerate() {
                        *i = 8 + (k % 8) as u8;
                    }
                    let up = self.shuffle(bytes, bytes, idx);
                    let up = self.b.ins().bitcast(types::F32X4, little(), up);
                    hi.push(self.b.ins().fvpromote_low(up));
                }
                let r = self.math_f64x2(op, true, &hi, powi)?;
                let r_hi = self.b.ins().fvdemote(r);
                let lo_b = self.b.ins().bitcast(types::I8X16, little(), r_lo);
                let hi_b = self.b.ins().bitcast(types::I8X16, little(), r_hi);
                let mut idx = [0u8; 16];
                for (k, i) in idx.iter_mut().enumerate() {
                    *i = if k < 8 { k as u8 } else { 8 + k as u8 };
                }
                let both = self.shuffle(lo_b, hi_b, idx);
                Ok(self.b.ins().bitcast(types::F32X4, little(), both))
            }
        }
    }

    /// One math routine on `f64x2` operands (`for_f32`: the operands are
    /// promoted `f32` values, which only `powi` treats differently).
    fn math_f64x2(
        &mut self,
        op: Op,
        for_f32: bool,
        a: &[CValue],
        powi: Option<i32>,
    ) -> Result<CValue, Error> {
        let Some(pool) = self.pool.as_mut() else {
            return Err(Error::cranelift(
                "internal: no constant pool for a math routine",
            ));
        };
        let z = self.b.use_var(pool.zero);
        let addr = self.b.ins().symbol_value(self.ptr, pool.gv);
        let base = self.b.ins().iadd(addr, z);
        let env = vmath::Env {
            base,
            tables: addr,
            huge: pool.huge,
        };
        let mut vm = Vm::new(&mut self.b, self.math_fma, &mut pool.consts, env);
        if let Some(k) = powi {
            return Ok(if for_f32 {
                vm.powi_for_f32(a[0], k)
            } else {
                vm.powi(a[0], k)
            });
        }
        match vmath::routine_of(op) {
            Some(r) => Ok(vm.routine(r, a)),
            None => Err(Error::cranelift(format!(
                "internal: {op:?} has no math routine"
            ))),
        }
    }

    /// The vector lowering of an op without one: per lane, the scalar
    /// lowering (bools cross as 0 / 1 and come back as masks).
    fn per_lane(&mut self, op: Op, dt: DType, a: &[CValue], rdt: DType) -> Result<CValue, Error> {
        let w = if dt == DType::Bool {
            self.width(a[0])
        } else {
            dt.size()
        };
        let rty = match rdt {
            DType::Bool => mask_ty(w),
            _ => self.vec_ty(rdt),
        };
        let mut out = None;
        for k in 0..self.lanes {
            let mut lane = Vec::with_capacity(a.len());
            for (j, v) in a.iter().enumerate() {
                let x = self.b.ins().extractlane(*v, k as u8);
                let is_bool = match op {
                    Op::Where => j == 0 || dt == DType::Bool,
                    _ => dt == DType::Bool,
                };
                lane.push(if is_bool {
                    self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0)
                } else {
                    x
                });
            }
            let r = self.apply(Mode::Scalar, op, dt, &lane, rdt)?;
            let r = if rdt == DType::Bool {
                let e = self.b.ins().uextend(rty.lane_type(), r);
                self.b.ins().ineg(e)
            } else {
                r
            };
            out = Some(match out {
                None => self.b.ins().scalar_to_vector(rty, r),
                Some(v) => self.b.ins().insertlane(v, r, k as u8),
            });
        }
        out.ok_or_else(|| Error::cranelift("internal: kernel with no lanes"))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum IntDiv {
    Floor,
    Mod,
    Fmod,
}
