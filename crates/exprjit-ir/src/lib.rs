//! Turns an expression's AST into a typed, simplified IR function, and
//! defines what every such function means through a reference interpreter.
//!
//! Pipeline: [`check::check_program`] (types, NEP 50 promotion, casts;
//! the expression split at its reductions) -> [`passes::simplify_program`]
//! (folding, CSE) -> [`Program`]: an elementwise [`Func`] and the
//! [`Reduction`]s it reads. [`interp::eval_program`] runs a program element
//! by element. The operator table lives in [`ops`]; what a reduction
//! computes, in [`semantics`].

pub mod array;
pub mod check;
pub mod dtype;
pub mod error;
pub mod func;
pub mod interp;
pub mod ops;
pub mod passes;
pub mod semantics;
pub mod shape;

pub use array::{Array, Data, Element};
pub use check::{Env, check, check_program};
pub use dtype::{DType, Kind, Scalar};
pub use error::{Error, ErrorKind};
pub use func::{
    BadAxis, Func, Inst, InstKind, Param, Program, Reduction, Roll, Value, resolve_rolls,
};
pub use ops::{Op, OpInfo, ReduceOp};

/// Parses, type checks and simplifies an elementwise `text` for variables
/// of the dtypes `env` gives. Text with a reduction is an
/// [`ErrorKind::NotElementwise`] error; [`compile_program`] takes it.
pub fn compile(text: &str, env: &(impl Env + ?Sized)) -> Result<Func, Error> {
    let ast = exprjit_syntax::parse(text)?;
    let func = check(&ast, text, env)?;
    Ok(passes::simplify(&func))
}

/// Parses, type checks and simplifies any `text`, reductions included.
pub fn compile_program(text: &str, env: &(impl Env + ?Sized)) -> Result<Program, Error> {
    let ast = exprjit_syntax::parse(text)?;
    let program = check_program(&ast, text, env)?;
    Ok(passes::simplify_program(&program))
}
