//! Type checks an [`Expr`] against the dtypes of its variables and lowers it
//! into a typed [`Func`], inserting the casts that NumPy 2 promotion (NEP 50)
//! implies.
//!
//! Literals are *weak* (Python scalars): `f32_array * 2.0` stays float32.
//! A sub-expression built only from literals and named constants is
//! evaluated here, once, with the operator table, and stays weak.
//!
//! A reduction (`sum(E, axis=..)`) splits the expression: `E` is checked
//! as a [`Program`] of its own, and the enclosing function reads the
//! reduction's result as a parameter (see [`Reduction`]).

use crate::dtype::{DType, Kind, Scalar};
use crate::error::{Error, ErrorKind};
use crate::func::{Func, Inst, InstKind, Param, Program, Reduction, Roll, Value};
use crate::ops::{Op, Promote, ReduceOp};
use exprjit_syntax::{Arg, Expr, ExprKind, Span, UnaryOp};
use std::cell::Cell;
use std::collections::HashMap;

/// Functions the checker rewrites into table operations.
pub(crate) const EXTRA_FUNCTIONS: [&str; 2] = ["clip", "roll"];

/// The named constants; a variable of the same name shadows them.
const CONSTANTS: [(&str, f64); 4] = [
    ("pi", std::f64::consts::PI),
    ("e", std::f64::consts::E),
    ("inf", f64::INFINITY),
    ("nan", f64::NAN),
];

/// Spellings from other libraries and the name exprjit uses.
const ALIASES: [(&str, &str); 12] = [
    ("amin", "min"),
    ("amax", "max"),
    ("asin", "arcsin"),
    ("acos", "arccos"),
    ("atan", "arctan"),
    ("atan2", "arctan2"),
    ("asinh", "arcsinh"),
    ("acosh", "arccosh"),
    ("atanh", "arctanh"),
    ("ln", "log"),
    ("pow", "** (the power operator)"),
    ("fabs", "abs"),
];

/// The variables an expression may name, with their dtypes.
pub trait Env {
    fn dtype_of(&self, name: &str) -> Option<DType>;
    /// All names, for "did you mean" hints.
    fn names(&self) -> Vec<String>;
}

impl<S: AsRef<str>> Env for [(S, DType)] {
    fn dtype_of(&self, name: &str) -> Option<DType> {
        self.iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, d)| *d)
    }
    fn names(&self) -> Vec<String> {
        self.iter().map(|(n, _)| n.as_ref().to_string()).collect()
    }
}

impl<S: AsRef<str>, const N: usize> Env for [(S, DType); N] {
    fn dtype_of(&self, name: &str) -> Option<DType> {
        self.as_slice().dtype_of(name)
    }
    fn names(&self) -> Vec<String> {
        self.as_slice().names()
    }
}

impl Env for HashMap<String, DType> {
    fn dtype_of(&self, name: &str) -> Option<DType> {
        self.get(name).copied()
    }
    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

/// A checked sub-expression: a value of the function, or a weak constant
/// (of the default dtype of its kind: bool, int64 or float64).
#[derive(Clone, Copy, Debug)]
enum Typed {
    Strong(Value),
    Weak(Scalar),
}

/// Type checks an elementwise `expr` (parsed from `text`) and lowers it to
/// IR. The function's parameters are the variables it names, in order of
/// first appearance. An expression with a reduction is a
/// [`ErrorKind::NotElementwise`] error here; [`check_program`] takes it.
pub fn check(expr: &Expr, text: &str, env: &(impl Env + ?Sized)) -> Result<Func, Error> {
    let program = check_program(expr, text, env)?;
    match program.reductions.first() {
        Some(r) => Err(Error::new(
            ErrorKind::NotElementwise {
                function: r.op.name().to_string(),
            },
            Some(r.span),
            text,
        )),
        None => Ok(program.main),
    }
}

/// Type checks `expr` (parsed from `text`) and lowers it to a [`Program`]:
/// an elementwise function and the reductions it reads.
pub fn check_program(expr: &Expr, text: &str, env: &(impl Env + ?Sized)) -> Result<Program, Error> {
    let counter = Cell::new(0);
    Checker::new(text, &|n| env.dtype_of(n), &|| env.names(), &counter).program(expr)
}

struct Checker<'a> {
    text: &'a str,
    env: &'a dyn Fn(&str) -> Option<DType>,
    names: &'a dyn Fn() -> Vec<String>,
    params: Vec<Param>,
    /// Parameters by variable and rolls.
    param_values: HashMap<(String, Vec<Roll>), Value>,
    /// The rolls around the sub-expression being checked, outermost first.
    rolls: Vec<Roll>,
    insts: Vec<Inst>,
    /// The reductions this function reads, in order of completion.
    reductions: Vec<Reduction>,
    /// Reduction names by the call's fully parenthesised text, so that a
    /// reduction written twice is computed once.
    reduction_names: HashMap<u128, String>,
    /// Numbers reduction names, across the whole expression.
    counter: &'a Cell<u32>,
}

impl<'a> Checker<'a> {
    fn new(
        text: &'a str,
        env: &'a dyn Fn(&str) -> Option<DType>,
        names: &'a dyn Fn() -> Vec<String>,
        counter: &'a Cell<u32>,
    ) -> Checker<'a> {
        Checker {
            text,
            env,
            names,
            params: Vec::new(),
            param_values: HashMap::new(),
            rolls: Vec::new(),
            insts: Vec::new(),
            reductions: Vec::new(),
            reduction_names: HashMap::new(),
            counter,
        }
    }

    /// Checks `expr` as a whole program (its result materialised).
    fn program(mut self, expr: &Expr) -> Result<Program, Error> {
        let top = self.expr(expr)?;
        let result = self.strong(top, expr.span);
        Ok(Program {
            main: Func {
                params: self.params,
                insts: self.insts,
                result,
            },
            reductions: self.reductions,
        })
    }

    fn err(&self, kind: ErrorKind, span: Span) -> Error {
        Error::new(kind, Some(span), self.text)
    }

    fn push(&mut self, kind: InstKind, dtype: DType, span: Span) -> Value {
        let v = Value(u32::try_from(self.insts.len()).unwrap_or(u32::MAX));
        self.insts.push(Inst { kind, dtype, span });
        v
    }

    fn dtype(&self, t: Typed) -> DType {
        match t {
            Typed::Strong(v) => self.insts[v.index()].dtype,
            Typed::Weak(s) => s.dtype(),
        }
    }

    /// Materialises a weak constant at its default dtype.
    fn strong(&mut self, t: Typed, span: Span) -> Value {
        match t {
            Typed::Strong(v) => v,
            Typed::Weak(s) => self.push(InstKind::Const(s), s.dtype(), span),
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<Typed, Error> {
        match &e.kind {
            ExprKind::Int(i) => Ok(Typed::Weak(Scalar::I64(*i))),
            ExprKind::Float(x) => Ok(Typed::Weak(Scalar::F64(*x))),
            ExprKind::Bool(b) => Ok(Typed::Weak(Scalar::Bool(*b))),
            ExprKind::Name(name) => self.name(name, e.span),
            ExprKind::Unary(UnaryOp::Plus, x) => self.expr(x),
            ExprKind::Unary(op, x) => {
                let a = self.expr(x)?;
                let op = match op {
                    UnaryOp::Neg => Op::Neg,
                    _ => Op::Not,
                };
                self.apply(op, op.info().syntax_name(), &[(a, x.span)], e.span)
            }
            ExprKind::Binary(op, l, r) => {
                let a = self.expr(l)?;
                let b = self.expr(r)?;
                self.apply(
                    Op::binary(*op),
                    op.symbol(),
                    &[(a, l.span), (b, r.span)],
                    e.span,
                )
            }
            ExprKind::Call { name, args, .. } if name == "roll" => self.roll(e, args),
            ExprKind::Call { name, args, .. } if let Some(op) = ReduceOp::from_name(name) => {
                self.reduction(e, op, args)
            }
            ExprKind::Call {
                name,
                name_span,
                args,
            } => {
                if let Some(kw) = args.iter().find_map(|a| a.name.as_ref()) {
                    return Err(self.err(
                        ErrorKind::UnexpectedKeyword {
                            function: name.clone(),
                            keyword: kw.0.clone(),
                        },
                        kw.1,
                    ));
                }
                let arity = if name == "clip" {
                    3
                } else {
                    match Op::function(name) {
                        Some(op) => op.info().arity,
                        None => return Err(self.unknown_function(name, *name_span)),
                    }
                };
                if args.len() != arity {
                    let span = args.get(arity).map_or(e.span, |a| a.value.span);
                    return Err(self.err(
                        ErrorKind::WrongArity {
                            function: name.clone(),
                            expected: arity,
                            found: args.len(),
                        },
                        span,
                    ));
                }
                let mut typed = Vec::with_capacity(args.len());
                for a in args {
                    typed.push((self.expr(&a.value)?, a.value.span));
                }
                match Op::function(name) {
                    Some(op) => self.apply(op, name, &typed, e.span),
                    // clip(x, lo, hi) = minimum(maximum(x, lo), hi), as numpy
                    // defines it.
                    None => {
                        let lo = self.apply(Op::Maximum, name, &typed[..2], e.span)?;
                        self.apply(Op::Minimum, name, &[(lo, e.span), typed[2]], e.span)
                    }
                }
            }
        }
    }

    /// The parameter for `name` read through the current rolls, added on
    /// first use.
    fn param(&mut self, name: &str, dtype: DType, span: Span) -> Value {
        let key = (name.to_string(), self.rolls.clone());
        if let Some(&v) = self.param_values.get(&key) {
            return v;
        }
        let n = u32::try_from(self.params.len()).unwrap_or(u32::MAX);
        self.params.push(Param {
            name: name.to_string(),
            dtype,
            rolls: self.rolls.clone(),
        });
        let v = self.push(InstKind::Param(n), dtype, span);
        self.param_values.insert(key, v);
        v
    }

    fn name(&mut self, name: &str, span: Span) -> Result<Typed, Error> {
        if let Some(dtype) = (self.env)(name) {
            return Ok(Typed::Strong(self.param(name, dtype, span)));
        }
        if let Some((_, x)) = CONSTANTS.iter().find(|(n, _)| *n == name) {
            return Ok(Typed::Weak(Scalar::F64(*x)));
        }
        let err = self.err(
            ErrorKind::UnknownVariable {
                name: name.to_string(),
            },
            span,
        );
        let mut candidates = (self.names)();
        candidates.extend(CONSTANTS.iter().map(|(n, _)| n.to_string()));
        Err(match closest(name, candidates.iter().map(String::as_str)) {
            Some(c) => err.with_hint(format!("did you mean '{c}'?")),
            None if Op::function(name).is_some() => {
                err.with_hint(format!("'{name}' is a function: call it as {name}(...)"))
            }
            None => err,
        })
    }

    /// `roll(x, shift, axis)`: checks `x` with the roll pushed onto the
    /// parameters it reads. `shift` and `axis` must be integer constants
    /// (positionally or as keywords).
    fn roll(&mut self, call: &Expr, args: &[exprjit_syntax::Arg]) -> Result<Typed, Error> {
        let mut slots: [Option<&Expr>; 3] = [None; 3];
        for (i, a) in args.iter().enumerate() {
            let slot = match &a.name {
                None if i < 3 => i,
                None => {
                    return Err(self.err(
                        ErrorKind::WrongArity {
                            function: "roll".into(),
                            expected: 3,
                            found: args.len(),
                        },
                        a.value.span,
                    ));
                }
                Some((kw, _)) if kw == "shift" => 1,
                Some((kw, _)) if kw == "axis" => 2,
                Some((kw, span)) => {
                    return Err(self.err(
                        ErrorKind::UnexpectedKeyword {
                            function: "roll".into(),
                            keyword: kw.clone(),
                        },
                        *span,
                    ));
                }
            };
            slots[slot] = Some(&a.value);
        }
        let [Some(x), Some(shift), Some(axis)] = slots else {
            return Err(self
                .err(
                    ErrorKind::WrongArity {
                        function: "roll".into(),
                        expected: 3,
                        found: args.len(),
                    },
                    call.span,
                )
                .with_hint("roll(x, shift, axis) needs all three; numpy's roll over the flattened array is not supported"));
        };
        let hint = "write an integer literal, e.g. roll(u, 1, 0)";
        let shift_value = self.integer_constant(shift, "roll's shift", hint)?;
        let axis_value = self.integer_constant(axis, "roll's axis", hint)?;
        let mut scope = Vec::new();
        self.variables(x, &mut scope);
        let constant = scope.is_empty();
        self.rolls.push(Roll {
            shift: shift_value,
            axis: axis_value,
            scope,
            axis_span: axis.span,
        });
        let result = self.expr(x);
        self.rolls.pop();
        // A roll of something that reads no variable (once `x` checks)
        // rolls a 0-d value: every axis is out of range, as numpy's `roll`
        // of a 0-d array says.
        if constant && result.is_ok() {
            return Err(self.err(
                ErrorKind::AxisOutOfRange {
                    axis: axis_value,
                    ndim: 0,
                },
                axis.span,
            ));
        }
        result
    }

    /// The value of a constant expression (literals and named constants
    /// only), checked outside any roll: a constant does not depend on it.
    fn constant(&mut self, e: &Expr) -> Result<Typed, Error> {
        let saved = std::mem::take(&mut self.rolls);
        let t = self.expr(e);
        self.rolls = saved;
        t
    }

    /// The value of an integer constant expression, or a `NotConstant`
    /// error at `e`.
    fn integer_constant(&mut self, e: &Expr, what: &str, hint: &str) -> Result<i64, Error> {
        match self.constant(e)? {
            Typed::Weak(Scalar::I64(v)) => Ok(v),
            _ => Err(self
                .err(
                    ErrorKind::NotConstant {
                        what: what.to_string(),
                    },
                    e.span,
                )
                .with_hint(hint)),
        }
    }

    /// `op(x, axis, keepdims=..)`: checks `x` as a program of its own,
    /// records the reduction, and reads its result through a parameter.
    /// `axis` (positional or keyword) is an integer constant, `keepdims`
    /// (keyword only, as in numpy) `True` or `False`.
    fn reduction(&mut self, call: &Expr, op: ReduceOp, args: &[Arg]) -> Result<Typed, Error> {
        let function = op.name();
        let mut x: Option<&Expr> = None;
        let mut axis: Option<&Expr> = None;
        let mut keepdims: Option<&Expr> = None;
        let positional = args.iter().filter(|a| a.name.is_none()).count();
        let mut seen = 0;
        for a in args {
            let slot = match &a.name {
                None => {
                    seen += 1;
                    match seen {
                        1 => &mut x,
                        2 => &mut axis,
                        _ => {
                            return Err(self
                                .err(
                                    ErrorKind::WrongArity {
                                        function: function.into(),
                                        expected: 2,
                                        found: positional,
                                    },
                                    a.value.span,
                                )
                                .with_hint(format!(
                                    "{function}(x, axis) or {function}(x, axis=0, keepdims=True)"
                                )));
                        }
                    }
                }
                Some((kw, _)) if kw == "axis" => &mut axis,
                Some((kw, _)) if kw == "keepdims" => &mut keepdims,
                Some((kw, span)) => {
                    return Err(self.err(
                        ErrorKind::UnexpectedKeyword {
                            function: function.into(),
                            keyword: kw.clone(),
                        },
                        *span,
                    ));
                }
            };
            if slot.is_some() {
                let (argument, span) = match &a.name {
                    Some((kw, span)) => (kw.clone(), *span),
                    None => ("axis".to_string(), a.value.span),
                };
                return Err(self.err(
                    ErrorKind::DuplicateArgument {
                        function: function.into(),
                        argument,
                    },
                    span,
                ));
            }
            *slot = Some(&a.value);
        }
        let Some(x) = x else {
            return Err(self.err(
                ErrorKind::WrongArity {
                    function: function.into(),
                    expected: 1,
                    found: 0,
                },
                call.span,
            ));
        };
        let axis_value = match axis {
            None => None,
            Some(a) => {
                let hint = match op {
                    ReduceOp::Min | ReduceOp::Max => format!(
                        "the elementwise {function}imum of two arrays is {function}imum(a, b)"
                    ),
                    _ => format!("write an integer literal, e.g. {function}(x, axis=0)"),
                };
                Some(self.integer_constant(a, &format!("{function}'s axis"), &hint)?)
            }
        };
        let keepdims_value = match keepdims {
            None => false,
            Some(k) => match self.constant(k)? {
                Typed::Weak(Scalar::Bool(b)) => b,
                _ => {
                    return Err(self.err(
                        ErrorKind::NotBoolConstant {
                            what: "keepdims".into(),
                        },
                        k.span,
                    ));
                }
            },
        };
        let name = self.reduction_name(call);
        let dtype = match self.reductions.iter().find(|r| r.name == name) {
            Some(r) => r.dtype(),
            None => {
                let sub = Checker::new(self.text, self.env, self.names, self.counter);
                let input = sub.program(x)?;
                let r = Reduction {
                    name: name.clone(),
                    op,
                    input,
                    input_span: x.span,
                    axis: axis_value,
                    keepdims: keepdims_value,
                    span: call.span,
                    axis_span: axis.map_or(call.span, |a| a.span),
                };
                let dtype = r.dtype();
                self.reductions.push(r);
                dtype
            }
        };
        Ok(Typed::Strong(self.param(&name, dtype, call.span)))
    }

    /// The parameter name of the reduction `call`: its source text (spaces
    /// collapsed, cut after [`NAME_CHARS`] characters) and a number unique
    /// in the expression. The same call written twice gets one name.
    ///
    /// Calls are told apart by a 128-bit digest of their fully
    /// parenthesised text rather than the text itself, so that nested
    /// reductions (`sum(sum(sum(...)))`) hold no copy of every sub-text;
    /// the names are cut for the same reason.
    fn reduction_name(&mut self, call: &Expr) -> String {
        let key = digest(&format!("{call:#}"));
        if let Some(n) = self.reduction_names.get(&key) {
            return n.clone();
        }
        let k = self.counter.get();
        self.counter.set(k.saturating_add(1));
        let source = self.text.get(call.span.range()).unwrap_or("");
        let mut shown = String::new();
        for (i, word) in source.split_whitespace().enumerate() {
            if i > 0 {
                shown.push(' ');
            }
            shown.push_str(word);
            if shown.len() > NAME_CHARS {
                break;
            }
        }
        if shown.chars().count() > NAME_CHARS {
            shown = shown.chars().take(NAME_CHARS).collect::<String>() + "...";
        }
        let name = format!("{shown}#{k}");
        self.reduction_names.insert(key, name.clone());
        name
    }

    /// The variables (bound in the environment) that `e` names, and the
    /// reductions it reads (by parameter name): together, what the shape of
    /// `e` is the broadcast of.
    fn variables(&mut self, e: &Expr, out: &mut Vec<String>) {
        match &e.kind {
            ExprKind::Name(n) => {
                if (self.env)(n).is_some() && !out.contains(n) {
                    out.push(n.clone());
                }
            }
            ExprKind::Call { name, .. } if ReduceOp::from_name(name).is_some() => {
                let n = self.reduction_name(e);
                if !out.contains(&n) {
                    out.push(n);
                }
            }
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) => {}
            ExprKind::Unary(_, x) => self.variables(x, out),
            ExprKind::Binary(_, l, r) => {
                self.variables(l, out);
                self.variables(r, out);
            }
            ExprKind::Call { args, .. } => {
                for a in args {
                    self.variables(&a.value, out);
                }
            }
        }
    }

    fn unknown_function(&self, name: &str, span: Span) -> Error {
        let err = self.err(
            ErrorKind::UnknownFunction {
                name: name.to_string(),
            },
            span,
        );
        if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == name) {
            return err.with_hint(format!("exprjit spells it '{to}'"));
        }
        if (self.env)(name).is_some() {
            return err.with_hint(format!("'{name}' is a variable, not a function"));
        }
        let names = Op::function_names();
        match closest(name, names.iter().copied()) {
            Some(c) => err.with_hint(format!("did you mean '{c}'?")),
            None => err,
        }
    }

    /// Applies `op` (written `written` in the source) to checked operands:
    /// promotes them, checks the table accepts the common dtype, then either
    /// folds (all operands weak) or emits the instruction.
    fn apply(
        &mut self,
        op: Op,
        written: &str,
        args: &[(Typed, Span)],
        span: Span,
    ) -> Result<Typed, Error> {
        let info = op.info();
        let (cond, values) = match info.promote {
            Promote::Where => (Some(args[0]), &args[1..]),
            _ => (None, args),
        };
        let common = match info.promote {
            Promote::Keep => self.dtype(values[0].0),
            _ => {
                let c = self.common(values.iter().map(|a| a.0));
                if info.promote == Promote::ToFloat && !c.is_float() {
                    DType::F64
                } else {
                    c
                }
            }
        };
        if !info.accepts.contains(common) {
            return Err(self.unsupported(op, written, values, common, span));
        }
        if op == Op::Pow
            && common.is_int()
            && let (Typed::Weak(Scalar::I64(e)), exp_span) = values[1]
            && e < 0
        {
            return Err(self
                .err(ErrorKind::NegativeIntegerPower, exp_span)
                .with_hint("use a float base or exponent, e.g. 2.0**-1"));
        }
        let result = op.result_dtype(common);
        let all_weak = args.iter().all(|a| matches!(a.0, Typed::Weak(_)));
        if all_weak {
            let mut scalars: Vec<Scalar> = Vec::with_capacity(args.len());
            if let Some((Typed::Weak(c), _)) = cond {
                scalars.push(c.cast(DType::Bool));
            }
            for (t, _) in values {
                if let Typed::Weak(s) = t {
                    scalars.push(s.cast(common));
                }
            }
            let folded = (info.eval)(&scalars, result);
            // A cast makes a strong value; anything else stays weak, at the
            // default dtype of its kind.
            return Ok(match op {
                Op::Cast(_) => Typed::Strong(self.push(InstKind::Const(folded), result, span)),
                _ => Typed::Weak(folded.cast(folded.dtype().kind().default_dtype())),
            });
        }
        let mut operands = Vec::with_capacity(args.len());
        if let Some((c, cspan)) = cond {
            operands.push(self.convert(c, DType::Bool, cspan)?);
        }
        for &(t, tspan) in values {
            operands.push(self.convert(t, common, tspan)?);
        }
        let v = self.push(InstKind::Apply(op, operands), result, span);
        Ok(Typed::Strong(v))
    }

    /// NEP 50: strong dtypes promote as numpy arrays do; a weak operand of a
    /// higher kind lifts the result to that kind's default dtype.
    fn common(&self, types: impl Iterator<Item = Typed>) -> DType {
        let mut strong: Option<DType> = None;
        let mut weak: Option<Kind> = None;
        for t in types {
            match t {
                Typed::Strong(v) => {
                    let d = self.insts[v.index()].dtype;
                    strong = Some(strong.map_or(d, |s| s.promote(d)));
                }
                Typed::Weak(s) => {
                    let k = s.dtype().kind();
                    weak = Some(weak.map_or(k, |w| w.max(k)));
                }
            }
        }
        match (strong, weak) {
            (Some(s), Some(k)) if k > s.kind() => k.default_dtype(),
            (Some(s), _) => s,
            (None, Some(k)) => k.default_dtype(),
            (None, None) => DType::F64,
        }
    }

    /// Converts an operand to `to`: a cast instruction for a strong value,
    /// a constant for a weak one (checking that an integer literal fits).
    fn convert(&mut self, t: Typed, to: DType, span: Span) -> Result<Value, Error> {
        match t {
            Typed::Strong(v) if self.insts[v.index()].dtype == to => Ok(v),
            Typed::Strong(v) => Ok(self.push(InstKind::Apply(Op::Cast(to), vec![v]), to, span)),
            Typed::Weak(s) => {
                if let (Scalar::I64(x), DType::I32) = (s, to)
                    && i32::try_from(x).is_err()
                {
                    return Err(self.err(
                        ErrorKind::IntegerOutOfRange {
                            value: x,
                            dtype: to,
                        },
                        span,
                    ));
                }
                Ok(self.push(InstKind::Const(s.cast(to)), to, span))
            }
        }
    }

    fn unsupported(
        &self,
        op: Op,
        written: &str,
        values: &[(Typed, Span)],
        common: DType,
        span: Span,
    ) -> Error {
        let info = op.info();
        // Point at the operand whose own dtype the op rejects; if every
        // operand is rejected (or none is, and only promotion is), at the
        // whole operation.
        let rejected: Vec<Span> = values
            .iter()
            .filter(|(t, _)| !info.accepts.contains(self.dtype(*t)))
            .map(|(_, s)| *s)
            .collect();
        let at = match rejected.as_slice() {
            [first, ..] if rejected.len() < values.len() => *first,
            _ => span,
        };
        let err = self.err(
            ErrorKind::UnsupportedDType {
                op: written.to_string(),
                dtype: common,
            },
            at,
        );
        match (op, common) {
            (Op::And | Op::Or | Op::Xor | Op::Not, _) => {
                err.with_hint("& | ^ ~ are logical on bool and bitwise on integers")
            }
            (Op::Shl | Op::Shr, _) => err.with_hint("shifts take integers"),
            (_, DType::Bool) => {
                err.with_hint("convert booleans first, e.g. int64(x), or use & | ^ ~ for logic")
            }
            _ => err,
        }
    }
}

impl crate::ops::OpInfo {
    /// The operator or function name a user writes for this operation.
    pub fn syntax_name(&self) -> &'static str {
        match self.syntax {
            crate::ops::Syntax::Binary(b) => b.symbol(),
            crate::ops::Syntax::Unary(u) => u.symbol(),
            crate::ops::Syntax::Function => self.name,
        }
    }
}

/// Reduction names show at most this many characters of the call.
const NAME_CHARS: usize = 60;

/// A 128-bit digest of `text` (two SipHash runs with different keys).
fn digest(text: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut lo = std::collections::hash_map::DefaultHasher::new();
    let mut hi = std::collections::hash_map::DefaultHasher::new();
    0u8.hash(&mut lo);
    1u8.hash(&mut hi);
    text.hash(&mut lo);
    text.hash(&mut hi);
    (u128::from(hi.finish()) << 64) | u128::from(lo.finish())
}

/// The candidate closest to `name` by edit distance, if it is close enough
/// to be a plausible typo. Linear in the names' total length: candidates
/// whose length differs by more than the limit are skipped, and the
/// others are compared within a band of the limit's width.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let chars: Vec<char> = name.chars().collect();
    let limit = match chars.len() {
        0..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    let mut scratch = Band::default();
    candidates
        .filter_map(|c| {
            // A cheap length test before collecting the candidate's chars.
            if c.len() + limit < chars.len() || c.chars().count().abs_diff(chars.len()) > limit {
                return None;
            }
            scratch.distance_within(&chars, c, limit).map(|d| (d, c))
        })
        .min()
        .map(|(_, c)| c)
}

/// Buffers for [`Band::distance_within`], reused across candidates.
#[derive(Default)]
struct Band {
    b: Vec<char>,
    prev: Vec<usize>,
    cur: Vec<usize>,
}

impl Band {
    /// The Levenshtein distance (over characters) of `a` and `b` if it is
    /// at most `limit`: the dynamic programme restricted to the diagonal
    /// band `|i - j| <= limit`, O(len x limit).
    fn distance_within(&mut self, a: &[char], b: &str, limit: usize) -> Option<usize> {
        const FAR: usize = usize::MAX / 4;
        self.b.clear();
        self.b.extend(b.chars());
        let (n, m) = (a.len(), self.b.len());
        if n.abs_diff(m) > limit {
            return None;
        }
        let w = 2 * limit + 1;
        // Row i holds D[i][j] at t = j + limit - i, for t in 0..w.
        self.prev.clear();
        self.prev.resize(w, FAR);
        for t in limit..w {
            if t - limit <= m {
                self.prev[t] = t - limit;
            }
        }
        for i in 1..=n {
            self.cur.clear();
            self.cur.resize(w, FAR);
            let mut best = FAR;
            for t in 0..w {
                let Some(j) = (i + t).checked_sub(limit) else {
                    continue;
                };
                if j > m {
                    break;
                }
                let d = if j == 0 {
                    i
                } else {
                    let sub = self.prev[t] + usize::from(a[i - 1] != self.b[j - 1]);
                    let del = self.prev.get(t + 1).map_or(FAR, |d| d + 1);
                    let ins = if t > 0 { self.cur[t - 1] + 1 } else { FAR };
                    sub.min(del).min(ins)
                };
                self.cur[t] = d;
                best = best.min(d);
            }
            if best > limit {
                return None;
            }
            std::mem::swap(&mut self.prev, &mut self.cur);
        }
        let d = self.prev[m + limit - n];
        (d <= limit).then_some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full Levenshtein table, the definition the band must agree with.
    fn edit_distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                let sub = prev[j] + usize::from(ca != *cb);
                cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    #[test]
    fn banded_distance_agrees_with_the_full_table() {
        let words = [
            "", "a", "ab", "ba", "abc", "sin", "sinh", "sqrt", "sqr", "xyzzy", "arccosh", "arcosh",
            "émile", "emile", "aaaa", "aaaaaaa", "abcdefg", "gfedcba", "x1", "x12",
        ];
        let mut band = Band::default();
        for a in words {
            let chars: Vec<char> = a.chars().collect();
            for b in words {
                for limit in 0..4 {
                    let full = edit_distance(a, b);
                    let want = (full <= limit).then_some(full);
                    assert_eq!(
                        band.distance_within(&chars, b, limit),
                        want,
                        "{a} {b} {limit}"
                    );
                }
            }
        }
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("sinh", "sin"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest("sqr", ["sqrt", "exp"].into_iter()), Some("sqrt"));
        assert_eq!(closest("zzzzzz", ["sqrt"].into_iter()), None);
    }
}
