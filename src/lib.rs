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
//! For now `evaluate` runs the reference interpreter; the JIT takes over
//! with the same signature.

mod vars;

pub use exprjit_ir::{Array, DType, Data, Element, Error, ErrorKind, Scalar};
pub use vars::{Elem, Elements, IntoOperand, Operand, Vars, View, ViewError};

/// Parses, type checks and evaluates `expr` over the operands in `vars`.
pub fn evaluate(expr: &str, vars: &Vars<'_>) -> Result<Array, Error> {
    let func = exprjit_ir::compile(expr, vars)?;
    let inputs: Vec<Array> = func
        .params
        .iter()
        .map(|p| vars.get(&p.name).map(Operand::to_array))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Internal("a checked variable is unbound".into()),
                None,
                expr,
            )
        })?;
    let refs: Vec<&Array> = inputs.iter().collect();
    exprjit_ir::interp::eval(&func, &refs, expr)
}
