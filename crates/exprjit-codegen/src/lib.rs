//! Compiles exprjit's typed IR into fused Cranelift SIMD kernels: one
//! machine-code loop per expression that reads every input element once,
//! keeps all intermediates in registers and writes each result once.
//!
//! [`Kernel::compile`] lowers a [`Func`](exprjit_ir::Func) (see [`lower`]
//! for the loop shape and the ABI) and [`Kernel::run`] is the one checked
//! call into the generated code. IEEE-exact operations are lowered to
//! instructions with the same bits as [`exprjit_ir::interp`]. The libm
//! functions (and float `**`) depend on [`Options::accuracy`]:
//! [`Accuracy::Strict`] calls the operator table's own Rust functions per
//! element (bit-identical to the interpreter); [`Accuracy::Fast`], the
//! default, runs inline vector routines (see below).
//!
//! ```
//! use exprjit_codegen::{Kernel, Layout, Operand, Options, Output};
//! use exprjit_ir::{DType, Func, Inst, InstKind, Op, Param, Value};
//! # use exprjit_syntax::Span;
//! # let span = Span::new(0, 0);
//! // a * b
//! let func = Func {
//!     params: vec![
//!         Param { name: "a".into(), dtype: DType::F64, rolls: Vec::new() },
//!         Param { name: "b".into(), dtype: DType::F64, rolls: Vec::new() },
//!     ],
//!     insts: vec![
//!         Inst { kind: InstKind::Param(0), dtype: DType::F64, span },
//!         Inst { kind: InstKind::Param(1), dtype: DType::F64, span },
//!         Inst { kind: InstKind::Apply(Op::Mul, vec![Value(0), Value(1)]), dtype: DType::F64, span },
//!     ],
//!     result: Value(2),
//! };
//! let k = Kernel::compile(&func, &[Layout::Contiguous; 2], &Options::default())?;
//! let (a, b) = ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]);
//! let mut out = [0.0f64; 3];
//! k.run(&[Operand::contiguous(&a), Operand::contiguous(&b)], Output::separate(&mut out))?;
//! assert_eq!(out, [4.0, 10.0, 18.0]);
//! # Ok::<(), exprjit_codegen::Error>(())
//! ```
//!
//! # Compile time
//!
//! PERF: `a*b+c` (f64, contiguous), release build, measured with
//! `cargo run --release -p exprjit-codegen --example compile_time` on an
//! "AMD EPYC" (lscpu: family 26 model 2, i.e. Zen 5; 2 vCPUs of a shared
//! KVM guest; AVX-512), 5 runs:
//!
//! - cold (first kernel of the process, which also builds the host ISA):
//!   0.70-0.93 ms, typically 0.72 ms;
//! - warm (median of the next 1,000): 76-112 µs, typically 78 µs;
//! - 241 bytes of code; running it over 2^20 elements: 0.65 ms.
//!
//! Not measured on other machines; debug builds of this crate (tests) take
//! about 170 µs a kernel (the 20,000-kernel test: 3.4 s).
//!
//! # Vector math (`Accuracy::Fast`)
//!
//! `exp expm1 log log1p log2 log10 sin cos tan arcsin arccos arctan arctan2
//! sinh cosh tanh arcsinh arccosh arctanh hypot` and float `**` become
//! inline Cranelift code on `f64x2` (module `vmath`): exact range reduction,
//! Sollya `fpminimax` polynomials (`src/vmath/coeffs.sollya`), double-double
//! arithmetic where the last bit is decided, special values fixed by lane
//! selects. `exp`, `log1p` and `tanh` are table-driven (glibc's method:
//! `2^(i/128)` and `log(1/c)` tables in the kernel's data object) and, like
//! `sin`/`cos`/`tan`, run a short fast path on the common range with a
//! branch, taken only when some lane needs it, to the full routine on a
//! cold path (overflow, subnormal results, NaN; `|x| >= 2^19` for the
//! trigonometric functions, with Payne-Hanek's exact reduction from 2^30).
//! `f32` runs the `f64` routine and rounds once. FMA is used inside the
//! routines wherever the host has it (independently of [`Options::fma`]);
//! [`without_fma`] compiles the portable path for tests. `x ** k` with a
//! constant integer `|k| <=` [`MAX_INT_POW`] is repeated multiplication.
//! Each lane's result depends on that lane's input only (the scalar
//! remainder loop runs the same routine on a splat), so an element's result
//! never depends on its position.
//!
//! Bound: within 2 ULP of the correctly rounded result over the whole
//! domain (measured: 1.0), exact on special values. Measured maxima,
//! methods and speed are in `ACCURACY.md` beside this crate's `Cargo.toml`.
//! The short accuracy run is part of `cargo test -p exprjit-codegen`
//! (`tests/accuracy.rs`); the long run, 10 million inputs per function
//! against MPFR plus all `f32` inputs of `exp`, `log`, `sin`, `cos`, is a
//! separate command:
//!
//! ```text
//! cargo run -p exprjit-accuracy --release --features mpfr
//! ```
//!
//! PERF: 1e6 `f64` elements on one thread (`examples/vmath_speed.rs`, AMD
//! EPYC Zen 5, 2 vCPUs of a shared KVM guest): `sin(a)**2 + cos(b)*exp(-c)`
//! 5.3x faster than [`Accuracy::Strict`] (4.9 against 26.3 ns per element),
//! `log1p(abs(a)) + sqrt(b*b + c*c) + tanh(a*b)` 3.2x (5.7 against 18.1).
//!
//! # Memory
//!
//! Each kernel owns one `JITModule` and frees its executable memory when
//! dropped (`JITModule` alone would leak it); the test `memory` compiles and
//! drops 20,000 kernels and checks that resident memory stays flat.

mod disasm;
mod error;
mod isa;
mod kernel;
pub mod lower;
mod operand;
mod symbols;
mod vmath;

pub use error::{Error, ErrorKind};
pub use kernel::Kernel;
pub use lower::{Lowering, lowering, lowering_for};
pub use operand::{Layout, Operand, Output, Rows, as_bytes, as_bytes_mut};
pub use vmath::{MAX_INT_POW, without_fma};

/// Code generation options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Options {
    /// Contract `x * y + z` into one fused multiply-add where the product has
    /// no other use and the host has FMA. Changes results (one rounding
    /// instead of two), so off by default. (The math routines of
    /// [`Accuracy::Fast`] use FMA internally wherever the host has it,
    /// whatever this says.)
    pub fma: bool,
    /// How the libm functions and float `**` are computed.
    pub accuracy: Accuracy,
}

/// How the transcendental functions (`exp`, `log`, `sin`, ..., `hypot`,
/// `arctan2`) and float `**` are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Accuracy {
    /// Inline vector code (see `vmath`'s section below): within 2 ULP of
    /// the correctly rounded result (measured maxima in `ACCURACY.md`),
    /// special values exact. `x ** k` with a constant integer `|k| <=`
    /// [`MAX_INT_POW`] is repeated multiplication and may differ from
    /// `powf` by that bound too.
    #[default]
    Fast,
    /// One call per element to the operator table's scalar function (Rust
    /// `std`, i.e. the platform libm): bit-identical to the reference
    /// interpreter.
    Strict,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Kernel>();
    }
}
