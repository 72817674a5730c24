//! Turns a typed `Func` into a [`Kernel`]: compiled machine code that owns
//! its memory, plus the one checked call into it.

use crate::error::{Error, ErrorKind};
use crate::lower::{self, Shape};
use crate::operand::{Layout, Operand, Output, Rows};
use crate::{Options, disasm, isa, symbols};
use cranelift_codegen::ir::{Function, UserFuncName};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, ModuleError};
use exprjit_ir::{DType, Func};
use smallvec::SmallVec;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Operands whose pointer and stride arrays [`Kernel::run`] keeps on the
/// stack (more spill to the heap).
const INLINE_OPERANDS: usize = 16;

/// The generated function (see `lower` for the ABI).
type KernelFn = unsafe extern "C" fn(
    *const *const u8,
    *const isize,
    *mut u8,
    usize,
    usize,
    *const isize,
    isize,
);

/// The JIT module that owns a kernel's executable memory, freed on drop.
///
/// `JITModule` alone leaks its code when dropped (so that stray function
/// pointers stay valid); this wrapper frees it, which is sound because the
/// only pointer into the memory is the [`Kernel`]'s `entry`, which lives
/// and dies with this value.
struct JitCode(Option<JITModule>);

// SAFETY: after compilation no method of the module is called through a
// shared reference: `Kernel` only keeps it to free it in `Drop` (exclusive
// access). Its contents (mmap'ed memory, a symbol cache, `Send` lookup
// closures) are not tied to the thread that created them.
unsafe impl Send for JitCode {}
// SAFETY: no `&self` method of `Kernel` touches the module, so sharing a
// `&JitCode` between threads gives no access to its `RefCell` or closures.
unsafe impl Sync for JitCode {}

impl Drop for JitCode {
    fn drop(&mut self) {
        if let Some(module) = self.0.take() {
            // SAFETY: this `JitCode` is owned by one `Kernel` (or by
            // `Kernel::compile` before the kernel exists, which never called
            // into it). `Kernel::run` borrows the kernel, so no call into
            // the code runs while it is dropped, and the kernel's `entry`
            // pointer is dropped with it: nothing calls the code afterwards.
            unsafe { module.free_memory() };
        }
    }
}

/// A compiled elementwise kernel for one `Func` and one choice of input
/// layouts. Owns its machine code and frees it when dropped.
pub struct Kernel {
    entry: KernelFn,
    params: Vec<DType>,
    layouts: Vec<Layout>,
    result: DType,
    /// The CLIF as lowered (before Cranelift's optimisations), printed on
    /// first request.
    clif_func: Function,
    clif: OnceLock<String>,
    /// A copy of the machine code, as relocated at `code_addr`.
    machine_code: Vec<u8>,
    code_addr: u64,
    compile_time: Duration,
    shape: Shape,
    /// Last: dropped after every other field (none of them points into it).
    _code: JitCode,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("params", &self.params)
            .field("layouts", &self.layouts)
            .field("result", &self.result)
            .field("lanes", &self.shape.lanes)
            .field("unroll", &self.shape.unroll)
            .field("code_size", &self.machine_code.len())
            .field("compile_time", &self.compile_time)
            .finish_non_exhaustive()
    }
}

fn module_error(e: ModuleError, func: &Function) -> Error {
    match e {
        ModuleError::Compilation(e) => {
            Error::cranelift(cranelift_codegen::print_errors::pretty_error(func, e))
        }
        ModuleError::Allocation { err } => Error::new(ErrorKind::Memory(err.to_string())),
        e => Error::cranelift(e.to_string()),
    }
}

impl Kernel {
    /// Compiles `func` for inputs laid out as `layouts` (one per parameter).
    pub fn compile(func: &Func, layouts: &[Layout], opts: &Options) -> Result<Kernel, Error> {
        let start = Instant::now();
        func.verify()
            .map_err(|m| Error::new(ErrorKind::InvalidFunc(m)))?;
        if layouts.len() != func.params.len() {
            return Err(Error::operand(format!(
                "{} layouts for {} parameters",
                layouts.len(),
                func.params.len()
            )));
        }
        let host = isa::host()?;
        let mut builder =
            JITBuilder::with_isa(host.isa.clone(), cranelift_module::default_libcall_names());
        builder.symbol_lookup_fn(Box::new(symbols::lookup));
        let mut code = JitCode(Some(JITModule::new(builder)));
        let Some(module) = code.0.as_mut() else {
            return Err(Error::cranelift("internal: module vanished"));
        };

        let mut ctx = module.make_context();
        ctx.func.signature = lower::signature(module);
        let id = module
            .declare_function("exprjit_kernel", Linkage::Local, &ctx.func.signature)
            .map_err(|e| module_error(e, &ctx.func))?;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let mut fctx = FunctionBuilderContext::new();
        let shape = lower::build(
            module,
            &mut ctx.func,
            &mut fctx,
            func,
            layouts,
            opts,
            host.has_fma,
        )?;
        let clif_func = ctx.func.clone();
        module
            .define_function(id, &mut ctx)
            .map_err(|e| module_error(e, &clif_func))?;
        let size = ctx
            .compiled_code()
            .map(|c| c.code_buffer().len())
            .ok_or_else(|| Error::cranelift("internal: no compiled code"))?;
        module.finalize_definitions().map_err(|e| match e {
            ModuleError::Backend(e) => Error::new(ErrorKind::Memory(e.to_string())),
            e => module_error(e, &clif_func),
        })?;
        let ptr = module.get_finalized_function(id);
        // SAFETY: `ptr` is the start of the function just finalized, `size`
        // bytes long (its code buffer), mapped readable and executable.
        let machine_code = unsafe { std::slice::from_raw_parts(ptr, size) }.to_vec();
        // SAFETY: `lower::build` gave this function exactly the `KernelFn`
        // signature (seven pointer-sized parameters, no results, the host's
        // C calling convention), and it was finalized above.
        let entry = unsafe { std::mem::transmute::<*const u8, KernelFn>(ptr) };
        Ok(Kernel {
            entry,
            params: func.params.iter().map(|p| p.dtype).collect(),
            layouts: layouts.to_vec(),
            result: func.result_dtype(),
            clif_func,
            clif: OnceLock::new(),
            machine_code,
            code_addr: ptr as u64,
            compile_time: start.elapsed(),
            shape,
            _code: code,
        })
    }

    /// Runs the kernel once over `len` output elements, where `len` is the
    /// output's length in elements.
    ///
    /// Checks everything the generated code relies on: one operand per
    /// parameter, of its dtype; each operand's stride agrees with its
    /// compiled layout (contiguous: 1, broadcast: 0); every element the
    /// kernel reads (`offset + i * stride`, `i` in `0..len`) lies inside the
    /// operand's bytes; base pointers are aligned for their dtype; the
    /// output holds exactly `len` results.
    pub fn run(&self, inputs: &[Operand<'_>], out: Output<'_>) -> Result<(), Error> {
        let len = out.bytes() / self.result.size();
        if !out.bytes().is_multiple_of(self.result.size()) {
            return Err(Error::operand(format!(
                "output of {} bytes is not a whole number of {} elements",
                out.bytes(),
                self.result
            )));
        }
        self.call(inputs, out, len, 1, len, None)
    }

    /// Runs the kernel over `rows.count` rows of `rows.len` elements with
    /// the checks of one call: row `r` reads operand `k` from
    /// `offset + r * rows.in_strides[k] + i * stride` and writes output
    /// element `r * rows.out_stride + i` (`i` in `0..rows.len`). The output
    /// holds at least `(count - 1) * out_stride + len` results; the elements
    /// between rows are left alone. For the many short rows of a stencil or
    /// a broadcast this costs one check and `count` bare calls instead of
    /// `count` checked ones.
    pub fn run_rows(
        &self,
        inputs: &[Operand<'_>],
        out: Output<'_>,
        rows: Rows<'_>,
    ) -> Result<(), Error> {
        if rows.in_strides.len() != inputs.len() {
            return Err(Error::operand(format!(
                "{} row strides for {} operands",
                rows.in_strides.len(),
                inputs.len()
            )));
        }
        if rows.count > 1 && rows.out_stride < rows.len {
            return Err(Error::operand(format!(
                "output rows of {} elements overlap at stride {}",
                rows.len, rows.out_stride
            )));
        }
        let needed = match rows.count {
            0 => 0,
            c => (c - 1)
                .checked_mul(rows.out_stride)
                .and_then(|n| n.checked_add(rows.len))
                .ok_or_else(|| Error::operand("output rows overflow".to_string()))?,
        };
        let have = out.bytes() / self.result.size();
        if needed > have {
            return Err(Error::operand(format!(
                "{} rows need {needed} output elements, the output holds {have}",
                rows.count
            )));
        }
        self.call(
            inputs,
            out,
            rows.len,
            rows.count,
            rows.out_stride,
            Some(rows.in_strides),
        )
    }

    /// The checks and the calls of [`Kernel::run`] and
    /// [`Kernel::run_rows`]: `count` rows of `len` elements, output rows
    /// `out_stride` elements apart (the caller checked that they fit the
    /// output and do not overlap), input rows `in_strides` apart (none:
    /// one row).
    fn call(
        &self,
        inputs: &[Operand<'_>],
        out: Output<'_>,
        len: usize,
        count: usize,
        out_stride: usize,
        in_strides: Option<&[isize]>,
    ) -> Result<(), Error> {
        if inputs.len() != self.params.len() {
            return Err(Error::operand(format!(
                "{} operands for {} parameters",
                inputs.len(),
                self.params.len()
            )));
        }
        let rsize = self.result.size();
        let (out_ptr, in_place): (*mut u8, Option<usize>) = match out {
            Output::Separate(b) => (b.as_mut_ptr(), None),
            Output::Bools(b) => {
                if self.result != DType::Bool {
                    return Err(Error::operand(format!(
                        "bool output for a {} result",
                        self.result
                    )));
                }
                (b.as_mut_ptr().cast::<u8>(), None)
            }
            Output::InPlace { input, buffer } => (buffer.as_mut_ptr(), Some(input)),
        };
        if !(out_ptr as usize).is_multiple_of(rsize) {
            return Err(Error::operand(format!(
                "output is not aligned for {}",
                self.result
            )));
        }
        if let Some(k) = in_place {
            match self.params.get(k) {
                None => return Err(Error::operand(format!("in-place input {k} does not exist"))),
                Some(d) if *d != self.result => {
                    return Err(Error::operand(format!(
                        "in-place input {k} is {d}, the result is {}",
                        self.result
                    )));
                }
                Some(_) if self.layouts[k] != Layout::Contiguous => {
                    return Err(Error::operand(format!(
                        "in-place input {k} is not compiled contiguous"
                    )));
                }
                Some(_) => {}
            }
        }
        // On the stack for up to INLINE_OPERANDS operands: a warm call
        // allocates nothing (tests/memory.rs counts).
        let mut ptrs: SmallVec<[*const u8; INLINE_OPERANDS]> = SmallVec::new();
        let mut strides: SmallVec<[isize; INLINE_OPERANDS]> = SmallVec::new();
        let mut row_bytes: SmallVec<[isize; INLINE_OPERANDS]> = SmallVec::new();
        let last_row = count.saturating_sub(1) as i128;
        for (i, op) in inputs.iter().enumerate() {
            let dt = self.params[i];
            if op.dtype != dt {
                return Err(Error::operand(format!(
                    "operand {i} is {}, compiled for {dt}",
                    op.dtype
                )));
            }
            if op.in_place != (in_place == Some(i)) {
                return Err(Error::operand(format!(
                    "operand {i}: Operand::in_place must be given exactly for the in-place input"
                )));
            }
            let row_stride = in_strides.map_or(0, |s| s[i]);
            if op.in_place {
                if count > 1 && row_stride != out_stride as isize {
                    return Err(Error::operand(format!(
                        "in-place operand {i}: row stride {row_stride}, output rows {out_stride} apart"
                    )));
                }
                ptrs.push(out_ptr.cast_const());
                strides.push(dt.size() as isize);
                row_bytes.push((out_stride * rsize) as isize);
                continue;
            }
            let ok = match self.layouts[i] {
                Layout::Contiguous => op.stride == 1,
                Layout::Broadcast => op.stride == 0,
                Layout::Strided => true,
            };
            if !ok {
                return Err(Error::operand(format!(
                    "operand {i} has stride {}, compiled {:?}",
                    op.stride, self.layouts[i]
                )));
            }
            if !(op.bytes.as_ptr() as usize).is_multiple_of(dt.size()) {
                return Err(Error::operand(format!(
                    "operand {i} is not aligned for {dt}"
                )));
            }
            // The elements read are affine in (row, i), so the extremes are
            // at the four corners of rows 0..count and elements 0..len.
            let n = (op.bytes.len() / dt.size()) as i128;
            let first = op.offset as i128;
            let along = (len as i128 - 1) * op.stride as i128;
            let across = last_row * row_stride as i128;
            let corners = [first, first + along, first + across, first + along + across];
            let lo = corners.into_iter().min().unwrap_or(first);
            let hi = corners.into_iter().max().unwrap_or(first);
            if len > 0 && count > 0 && (lo < 0 || hi >= n) {
                return Err(Error::operand(format!(
                    "operand {i}: elements {lo} to {hi} are outside its {n} elements"
                )));
            }
            let byte_stride = op
                .stride
                .checked_mul(dt.size() as isize)
                .ok_or_else(|| Error::operand(format!("operand {i}: stride overflows")))?;
            let byte_row = row_stride
                .checked_mul(dt.size() as isize)
                .ok_or_else(|| Error::operand(format!("operand {i}: row stride overflows")))?;
            // In bounds when len > 0 (checked above); otherwise unused.
            let start = op.bytes.get(op.offset * dt.size()..).unwrap_or(&[]);
            ptrs.push(start.as_ptr());
            strides.push(byte_stride);
            row_bytes.push(byte_row);
        }
        if len == 0 || count == 0 {
            return Ok(());
        }
        let out_row_bytes = (out_stride * rsize) as isize;
        // SAFETY: `entry` points at code owned by `self._code`, alive for
        // this borrow of `self`, compiled with the `KernelFn` signature for
        // `self.params`/`self.layouts`/`self.result`. The checks above
        // establish what that code assumes (see `lower`'s ABI):
        // - `ptrs`, `strides` and `row_bytes` hold one entry per parameter,
        //   and each operand has the parameter's dtype, so it reads the
        //   element width it was compiled for;
        // - contiguous operands have stride 1 and broadcast ones stride 0
        //   within a row, as the code assumes without reading `strides`;
        // - for r in 0..count and i in 0..len, `ptrs[k] + r * row_bytes[k]
        //   + i * strides[k]` stays inside operand k's slice: the reads are
        //   affine in (r, i), so they lie between the four corners checked
        //   in bounds above (strides are exact byte multiples); the base
        //   pointers are aligned for their dtype and the strides keep that
        //   alignment;
        // - row r's `len` results at `out + r * out_row_bytes` are inside
        //   the output: `(count - 1) * out_stride + len` elements fit
        //   (checked by `run`/`run_rows`), aligned, and rows do not overlap
        //   (`out_stride >= len` when count > 1); the output is an
        //   exclusive borrow, so no input aliases it, except the in-place
        //   input, which the kernel reads at element i of row r before
        //   writing that same element (its row stride is the output's,
        //   checked above, and it is compiled contiguous with the result's
        //   dtype);
        // - `len >= 1` and `count >= 1`, as the ABI requires;
        // - bool results are written as 0 or 1 only, so `Output::Bools`
        //   keeps valid `bool`s.
        unsafe {
            (self.entry)(
                ptrs.as_ptr(),
                strides.as_ptr(),
                out_ptr,
                len,
                count,
                row_bytes.as_ptr(),
                out_row_bytes,
            )
        };
        Ok(())
    }

    /// The kernel's CLIF as exprjit lowered it (before Cranelift's
    /// optimisations), for the REPL's `:clif` and golden tests.
    pub fn clif(&self) -> &str {
        self.clif
            .get_or_init(|| self.clif_func.display().to_string())
    }

    /// The machine code as assembly (x86-64, Intel syntax), or a hex dump on
    /// other hosts. Calls into helpers are annotated with their names.
    pub fn disassembly(&self) -> String {
        disasm::disassemble(&self.machine_code, self.code_addr)
    }

    /// Wall time of `compile`: lowering, Cranelift, and making the code
    /// executable.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// Size of the machine code in bytes.
    pub fn code_size(&self) -> usize {
        self.machine_code.len()
    }

    pub fn params(&self) -> &[DType] {
        &self.params
    }

    pub fn layouts(&self) -> &[Layout] {
        &self.layouts
    }

    pub fn result_dtype(&self) -> DType {
        self.result
    }

    /// Elements per vector in the main loop (2 or 4).
    pub fn lanes(&self) -> usize {
        self.shape.lanes
    }

    /// Vectors per main-loop iteration.
    pub fn unroll(&self) -> usize {
        self.shape.unroll
    }
}
