//! Compiles exprjit's typed IR into fused Cranelift SIMD kernels: one
//! machine-code loop per expression that reads every input element once,
//! keeps all intermediates in registers and writes each result once.
//!
//! [`Kernel::compile`] lowers a [`Func`](exprjit_ir::Func) (see [`lower`]
//! for the loop shape and the ABI) and [`Kernel::run`] is the one checked
//! call into the generated code. Results are bit-identical to
//! [`exprjit_ir::interp`] for every operation: IEEE-exact operations are
//! lowered to instructions with the same bits, libm functions call the
//! operator table's own Rust functions.
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

pub use error::{Error, ErrorKind};
pub use kernel::Kernel;
pub use lower::{Lowering, lowering};
pub use operand::{Layout, Operand, Output, as_bytes, as_bytes_mut};

/// Code generation options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Options {
    /// Contract `x * y + z` into one fused multiply-add where the product has
    /// no other use and the host has FMA. Changes results (one rounding
    /// instead of two), so off by default.
    pub fma: bool,
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
