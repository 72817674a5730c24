//! Turns the ways compiling or running a kernel can fail into one [`Error`]
//! type, keeping a caller's mistakes apart from bugs in exprjit.

use std::fmt;

/// An error from [`Kernel::compile`](crate::Kernel::compile) or
/// [`Kernel::run`](crate::Kernel::run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller passed operands or layouts that do not fit the kernel:
    /// wrong count, dtype, layout, alignment, or an element out of bounds.
    /// A bug in the caller (the runtime), never in the generated code.
    OperandMismatch(String),
    /// The [`Func`](exprjit_ir::Func) given to `compile` fails the IR
    /// verifier. Always a bug in exprjit (the passes before codegen).
    InvalidFunc(String),
    /// Cranelift rejected the function we built (verifier error,
    /// unsupported instruction) or failed to emit it. Always a bug in
    /// exprjit's lowering.
    Cranelift(String),
    /// The operating system refused executable memory for the code.
    Memory(String),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    pub(crate) fn operand(msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::OperandMismatch(msg.into()))
    }

    pub(crate) fn cranelift(msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::Cranelift(msg.into()))
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Whether this error is a bug in exprjit rather than in its caller or
    /// its environment.
    pub fn is_bug(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::InvalidFunc(_) | ErrorKind::Cranelift(_)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::OperandMismatch(m) => write!(f, "error: operand mismatch: {m}"),
            ErrorKind::InvalidFunc(m) => {
                write!(
                    f,
                    "error: internal error (a bug in exprjit): invalid IR: {m}"
                )
            }
            ErrorKind::Cranelift(m) => {
                write!(
                    f,
                    "error: internal error (a bug in exprjit): code generation failed: {m}"
                )
            }
            ErrorKind::Memory(m) => write!(f, "error: cannot allocate executable memory: {m}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_short_and_say_whose_bug() {
        let e = Error::operand("2 operands for 3 parameters");
        assert_eq!(
            e.to_string(),
            "error: operand mismatch: 2 operands for 3 parameters"
        );
        assert!(!e.is_bug());
        let e = Error::cranelift("verifier: v3 is not defined");
        assert!(e.to_string().contains("a bug in exprjit"));
        assert!(e.is_bug());
    }
}
