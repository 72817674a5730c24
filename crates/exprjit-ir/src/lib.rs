//! Turns an expression's AST into a typed, simplified IR function, and
//! defines what every such function means through a reference interpreter.
//!
//! Pipeline: [`check::check`] (types, NEP 50 promotion, casts) ->
//! [`passes::simplify`] (folding, CSE) -> [`Func`]; [`interp::eval`] runs a
//! `Func` element by element. The operator table lives in [`ops`].

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
pub use check::{Env, check};
pub use dtype::{DType, Kind, Scalar};
pub use error::{Error, ErrorKind};
pub use func::{BadAxis, Func, Inst, InstKind, Param, Roll, Value, resolve_rolls};
pub use ops::{Op, OpInfo};

/// Parses, type checks and simplifies `text` for variables of the dtypes
/// `env` gives.
pub fn compile(text: &str, env: &(impl Env + ?Sized)) -> Result<Func, Error> {
    let ast = exprjit_syntax::parse(text)?;
    let func = check(&ast, text, env)?;
    Ok(passes::simplify(&func))
}
