//! exprjit: evaluate array expressions such as `a*b+c` in one fused pass.
//!
//! ```
//! let a = vec![1.0, 2.0, 3.0];
//! let b = vec![4.0, 5.0, 6.0];
//! let c = 0.5;
//! let r = exprjit::evaluate("a*b + c", &exprjit::vars! {a, b, c = c}).unwrap();
//! assert_eq!(r.to_vec::<f64>().unwrap(), vec![4.5, 10.5, 18.5]);
//! ```
//!
//! Each expression is parsed and type checked once per operand signature
//! and compiled by Cranelift into one kernel that reads every input element
//! once and writes every output element once; kernels are cached, tiles run
//! on a thread pool. See `ARCHITECTURE.md` for the pipeline.

pub use exprjit_runtime::{
    Accuracy, Array, CacheStats, DType, Data, Elem, Element, Elements, ElementsMut, Engine,
    EngineChoice, Error, ErrorKind, IntoOperand, KernelStats, Layout, Mode, Operand, Options,
    Prepared, Scalar, Trace, Vars, View, ViewError, accuracy, clear_interrupt,
    detect_number_of_cores, evaluate, evaluate_in_place, evaluate_in_place_with, evaluate_into,
    evaluate_into_with, evaluate_with, interrupt, num_threads, set_accuracy, set_num_threads,
    set_pinning, set_streaming_threshold, set_tile_size,
};

#[cfg(feature = "ndarray")]
pub use exprjit_runtime::{ArrayExt, ndarray};

/// The compile-cost cache: statistics, capacity, clearing.
pub mod cache {
    pub use exprjit_runtime::cache::{
        CacheStats, DEFAULT_CAPACITY, KernelStats, clear, set_capacity, stats,
    };
}

/// The lower layers, for tools (the REPL's `:ast`, `:ir`, `:clif`, `:asm`).
pub mod internals {
    pub use exprjit_codegen as codegen;
    pub use exprjit_ir as ir;
    pub use exprjit_runtime as runtime;
    pub use exprjit_syntax as syntax;
}

/// Prepares `expr` for variables of the given dtypes: the returned
/// [`Prepared`] runs without parsing or cache lookups.
pub fn compile(expr: &str, signature: &[(&str, DType)]) -> Result<Prepared, Error> {
    Prepared::compile(expr, signature)
}

/// Builds [`Vars`] from variables in scope, named as the variables:
/// `vars!{a, b, k = 2.5}`.
#[macro_export]
macro_rules! vars {
    () => { $crate::Vars::new() };
    ($($name:ident $(= $value:expr)?),+ $(,)?) => {{
        let mut v = $crate::Vars::new();
        $( $crate::vars!(@bind v, $name $(, $value)?); )+
        v
    }};
    (@bind $v:ident, $name:ident) => { $v.set(stringify!($name), &$name); };
    (@bind $v:ident, $name:ident, $value:expr) => { $v.set(stringify!($name), $value); };
}
