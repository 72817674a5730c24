//! The typed IR: a [`Func`] is a list of instructions in dependency order,
//! each defining one [`Value`] of one dtype; a [`Program`] is a `Func` plus
//! the [`Reduction`]s whose results it reads; plus their text form and the
//! verifier that checks the invariants every pass must keep.

use crate::dtype::{DType, Scalar};
use crate::ops::{Op, Promote, ReduceOp};
use exprjit_syntax::Span;
use std::fmt::{self, Write};

/// A handle to the value an instruction defines: its index in
/// [`Func::insts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(pub u32);

impl Value {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// An input of the function: a variable the expression names, read as it
/// is or through periodic shifts (`roll`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    pub name: String,
    pub dtype: DType,
    /// The rolls the variable is read through, outermost first; empty for
    /// a plain read. The same variable may be several parameters, one per
    /// distinct list of rolls.
    pub rolls: Vec<Roll>,
}

impl Param {
    /// A plain (unrolled) parameter.
    pub fn new(name: impl Into<String>, dtype: DType) -> Param {
        Param {
            name: name.into(),
            dtype,
            rolls: Vec::new(),
        }
    }
}

/// numpy's `roll(e, shift, axis)` of a sub-expression `e`, pushed down to
/// the parameters `e` reads: element `i` of the rolled expression is
/// element `i - shift` (modulo the axis length) of `e` along `axis`.
///
/// Axes are relative to `e`'s shape, which is only known when operands
/// are bound; `scope` names the variables whose broadcast shape it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Roll {
    pub shift: i64,
    /// The axis of `e` (negative counts from its last axis).
    pub axis: i64,
    /// The variables of `e`.
    pub scope: Vec<String>,
    /// The axis argument in the source, for errors found at run time.
    pub axis_span: Span,
}

/// A roll found invalid once shapes are known: its axis, the rolled
/// expression's number of dimensions, and where the axis was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadAxis {
    pub axis: i64,
    pub ndim: usize,
    pub span: Span,
}

/// Resolves `rolls` against shapes: for each axis of the result that is
/// rolled, the shift modulo the axis length (shifts on one axis added up,
/// whole turns dropped), sorted by axis. `shape_of` gives each variable's
/// shape; `result` is the shape of the whole expression.
pub fn resolve_rolls(
    rolls: &[Roll],
    shape_of: &dyn Fn(&str) -> Option<Vec<usize>>,
    result: &[usize],
) -> Result<Vec<(usize, usize)>, BadAxis> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for r in rolls {
        let shapes: Vec<Vec<usize>> = r.scope.iter().filter_map(|n| shape_of(n)).collect();
        let e_shape = crate::shape::broadcast(shapes.iter().map(Vec::as_slice))
            .unwrap_or_else(|_| result.to_vec());
        let ndim = e_shape.len();
        let axis = if r.axis < 0 {
            r.axis + ndim as i64
        } else {
            r.axis
        };
        if axis < 0 || axis >= ndim as i64 {
            return Err(BadAxis {
                axis: r.axis,
                ndim,
                span: r.axis_span,
            });
        }
        let axis = axis as usize;
        let len = e_shape[axis];
        if len <= 1 {
            continue;
        }
        let at = axis + result.len().saturating_sub(ndim);
        let shift = r.shift.rem_euclid(len as i64) as usize;
        match out.iter_mut().find(|(a, _)| *a == at) {
            Some((_, s)) => *s = (*s + shift) % len,
            None => out.push((at, shift)),
        }
    }
    out.retain(|(_, s)| *s != 0);
    out.sort_unstable();
    Ok(out)
}

impl fmt::Display for Roll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "roll({}, axis={})", self.shift, self.axis)
    }
}

/// What an instruction computes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InstKind {
    /// The element of parameter `n` (an index into [`Func::params`]).
    Param(u32),
    /// A constant, the same for every element.
    Const(Scalar),
    /// An operation of the table applied to earlier values.
    Apply(Op, Vec<Value>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Inst {
    pub kind: InstKind,
    pub dtype: DType,
    /// The part of the expression this instruction came from.
    pub span: Span,
}

/// A typed, elementwise function of its parameters.
///
/// Invariants (checked by [`Func::verify`]): every operand refers to an
/// earlier instruction; every operation's operands have the dtypes its table
/// entry accepts and its dtype is the table's result dtype; `result` is a
/// valid value.
#[derive(Clone, Debug, PartialEq)]
pub struct Func {
    pub params: Vec<Param>,
    pub insts: Vec<Inst>,
    pub result: Value,
}

impl Func {
    pub fn inst(&self, v: Value) -> &Inst {
        &self.insts[v.index()]
    }

    pub fn dtype(&self, v: Value) -> DType {
        self.inst(v).dtype
    }

    /// The dtype of the function's result.
    pub fn result_dtype(&self) -> DType {
        self.dtype(self.result)
    }

    /// Checks the invariants listed on [`Func`]. A failure is a bug in
    /// exprjit, never a user error.
    pub fn verify(&self) -> Result<(), String> {
        for (i, inst) in self.insts.iter().enumerate() {
            let err = |msg: String| Err(format!("v{i}: {msg}\n{self}"));
            match &inst.kind {
                InstKind::Param(n) => match self.params.get(*n as usize) {
                    None => return err(format!("no parameter {n}")),
                    Some(p) if p.dtype != inst.dtype => {
                        return err(format!("parameter dtype {} != {}", p.dtype, inst.dtype));
                    }
                    Some(_) => {}
                },
                InstKind::Const(c) => {
                    if c.dtype() != inst.dtype {
                        return err(format!("constant of dtype {}", c.dtype()));
                    }
                }
                InstKind::Apply(op, args) => {
                    let info = op.info();
                    if args.len() != info.arity {
                        return err(format!("{} takes {} operands", info.name, info.arity));
                    }
                    if let Some(a) = args.iter().find(|a| a.index() >= i) {
                        return err(format!("operand {a} is not defined before use"));
                    }
                    let dts: Vec<DType> = args.iter().map(|a| self.dtype(*a)).collect();
                    let operand = match info.promote {
                        Promote::Where => {
                            if dts[0] != DType::Bool {
                                return err("where condition is not bool".into());
                            }
                            dts[1]
                        }
                        _ => dts[0],
                    };
                    let rest = if info.promote == Promote::Where {
                        &dts[1..]
                    } else {
                        &dts[..]
                    };
                    if rest.iter().any(|d| *d != operand) {
                        return err(format!(
                            "operands of {} differ in dtype: {dts:?}",
                            info.name
                        ));
                    }
                    if !info.accepts.contains(operand) {
                        return err(format!("{} does not take {operand}", info.name));
                    }
                    if op.result_dtype(operand) != inst.dtype {
                        return err(format!(
                            "result dtype should be {}",
                            op.result_dtype(operand)
                        ));
                    }
                }
            }
        }
        if self.result.index() >= self.insts.len() {
            return Err(format!("result {} is not defined", self.result));
        }
        Ok(())
    }
}

impl fmt::Display for Func {
    /// The stable text form that golden tests compare:
    ///
    /// ```text
    /// fn(a: f64, b: f64) -> f64 {
    ///     v0 = param.f64 a
    ///     v1 = param.f64 b
    ///     v2 = mul.f64 v0, v1
    ///     return v2
    /// }
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("fn(")?;
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", p.name)?;
            for r in &p.rolls {
                write!(f, "@{r}")?;
            }
            write!(f, ": {}", p.dtype.short_name())?;
        }
        let result = self
            .insts
            .get(self.result.index())
            .map_or("?", |i| i.dtype.short_name());
        writeln!(f, ") -> {result} {{")?;
        for (i, inst) in self.insts.iter().enumerate() {
            let ty = inst.dtype.short_name();
            let mut line = format!("    v{i} = ");
            match &inst.kind {
                InstKind::Param(n) => {
                    let name = self
                        .params
                        .get(*n as usize)
                        .map_or("?", |p| p.name.as_str());
                    write!(line, "param.{ty} {name}")?;
                    if let Some(p) = self.params.get(*n as usize) {
                        for r in &p.rolls {
                            write!(line, " {r}")?;
                        }
                    }
                }
                InstKind::Const(c) => write!(line, "const.{ty} {c}")?,
                InstKind::Apply(op, args) => {
                    let name = match op {
                        Op::Cast(_) => "cast",
                        _ => op.name(),
                    };
                    write!(line, "{name}.{ty}")?;
                    for (j, a) in args.iter().enumerate() {
                        write!(line, "{}{a}", if j == 0 { " " } else { ", " })?;
                    }
                }
            }
            writeln!(f, "{line}")?;
        }
        writeln!(f, "    return {}", self.result)?;
        f.write_str("}")
    }
}

impl Func {
    /// This function with its result cast to `to` (unchanged if it is
    /// already of that dtype).
    pub fn with_result_dtype(&self, to: DType) -> Func {
        let mut f = self.clone();
        if f.result_dtype() == to {
            return f;
        }
        let span = f.inst(f.result).span;
        f.insts.push(Inst {
            kind: InstKind::Apply(Op::Cast(to), vec![f.result]),
            dtype: to,
            span,
        });
        f.result = Value(u32::try_from(f.insts.len() - 1).unwrap_or(u32::MAX));
        f
    }
}

/// An expression split at its reductions: `main` is elementwise, and each
/// of its parameters is either a variable or the result of one of
/// `reductions` (by [`Reduction::name`]), which are evaluated, in order,
/// before `main`. `sqrt(sum(v*v))` is `main = sqrt(p)` with `p` the
/// reduction `sum` of the program `v*v`.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub main: Func,
    pub reductions: Vec<Reduction>,
}

/// `op(input, axis=.., keepdims=..)` inside an expression. Its result is
/// bound to the parameters of the enclosing function named [`Reduction::name`].
#[derive(Clone, Debug, PartialEq)]
pub struct Reduction {
    /// The call's source text and `#k` (`sum(v*v)#0`): a name no variable
    /// can have, unique in the whole expression.
    pub name: String,
    pub op: ReduceOp,
    /// The reduced expression, checked as a program of its own (it may hold
    /// reductions). Rolls around the call apply to the result (the
    /// parameter), not to the input.
    pub input: Program,
    /// Where the reduced expression is in the source text (see
    /// [`Reduction::input_text`]).
    pub input_span: Span,
    /// The axis of the input (negative counts from the last), or `None`
    /// for all elements. Resolved when shapes are known.
    pub axis: Option<i64>,
    /// numpy's `keepdims`: the reduced axes stay, with length 1.
    pub keepdims: bool,
    /// The whole call.
    pub span: Span,
    /// The axis argument (the call when there is none).
    pub axis_span: Span,
}

impl Reduction {
    /// The reduced expression's source, out of the whole expression's
    /// `text`.
    pub fn input_text<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.input_span.range()).unwrap_or("")
    }

    /// The dtype of the result, which is also the dtype the input's values
    /// are folded in ([`ReduceOp::result_dtype`]).
    pub fn dtype(&self) -> DType {
        self.op.result_dtype(self.input.main.result_dtype())
    }

    /// The reduced axis for an input of `ndim` dimensions (`None`: all).
    pub fn resolve_axis(&self, ndim: usize) -> Result<Option<usize>, BadAxis> {
        let Some(axis) = self.axis else {
            return Ok(None);
        };
        let resolved = if axis < 0 { axis + ndim as i64 } else { axis };
        if resolved < 0 || resolved >= ndim as i64 {
            return Err(BadAxis {
                axis,
                ndim,
                span: self.axis_span,
            });
        }
        Ok(Some(resolved as usize))
    }

    /// The result's shape for an input of shape `shape` reduced along
    /// `axis` (from [`Reduction::resolve_axis`]).
    pub fn result_shape(&self, shape: &[usize], axis: Option<usize>) -> Vec<usize> {
        match (axis, self.keepdims) {
            (None, false) => Vec::new(),
            (None, true) => vec![1; shape.len()],
            (Some(a), false) => [&shape[..a], &shape[a + 1..]].concat(),
            (Some(a), true) => {
                let mut s = shape.to_vec();
                s[a] = 1;
                s
            }
        }
    }
}

impl Program {
    /// A program without reductions.
    pub fn elementwise(main: Func) -> Program {
        Program {
            main,
            reductions: Vec::new(),
        }
    }

    pub fn result_dtype(&self) -> DType {
        self.main.result_dtype()
    }

    /// The reduction whose result the parameter `name` is, if any.
    pub fn reduction(&self, name: &str) -> Option<&Reduction> {
        self.reductions.iter().find(|r| r.name == name)
    }

    /// The variables the program reads (in `main` and in every reduction's
    /// input), each once, in order of first appearance in the text.
    pub fn variables(&self) -> Vec<String> {
        let mut found: Vec<(u32, String)> = Vec::new();
        self.collect_variables(&mut found);
        found.sort_by_key(|(at, _)| *at);
        let mut names: Vec<String> = Vec::with_capacity(found.len());
        for (_, n) in found {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    }

    fn collect_variables(&self, out: &mut Vec<(u32, String)>) {
        for inst in &self.main.insts {
            if let InstKind::Param(k) = inst.kind
                && let Some(p) = self.main.params.get(k as usize)
                && self.reduction(&p.name).is_none()
            {
                out.push((inst.span.start, p.name.clone()));
            }
        }
        for r in &self.reductions {
            r.input.collect_variables(out);
        }
    }

    /// Verifies `main` and every reduction's input, and that each
    /// parameter named after a reduction has its dtype. A failure is a bug
    /// in exprjit.
    pub fn verify(&self) -> Result<(), String> {
        self.main.verify()?;
        for (i, r) in self.reductions.iter().enumerate() {
            if self.reductions[..i].iter().any(|o| o.name == r.name) {
                return Err(format!("reduction {} defined twice\n{self}", r.name));
            }
            r.input.verify()?;
        }
        for p in &self.main.params {
            if let Some(r) = self.reduction(&p.name)
                && r.dtype() != p.dtype
            {
                return Err(format!(
                    "parameter {} is {}, its reduction gives {}\n{self}",
                    p.name,
                    p.dtype,
                    r.dtype()
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Reduction {
    /// `sum(axis=1, keepdims)`, or `sum` over all elements.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.name())?;
        match (self.axis, self.keepdims) {
            (None, false) => Ok(()),
            (None, true) => f.write_str("(keepdims)"),
            (Some(a), false) => write!(f, "(axis={a})"),
            (Some(a), true) => write!(f, "(axis={a}, keepdims)"),
        }
    }
}

impl fmt::Display for Program {
    /// The reductions, each as its name, dtype and input program (indented),
    /// then `main`; a program without reductions prints as its `main`:
    ///
    /// ```text
    /// reduce sum(v*v)#0: f64 = sum {
    ///     fn(v: f64) -> f64 {
    ///         v0 = param.f64 v
    ///         v1 = mul.f64 v0, v0
    ///         return v1
    ///     }
    /// }
    /// fn(sum(v*v)#0: f64) -> f64 {
    ///     v0 = param.f64 sum(v*v)#0
    ///     v1 = sqrt.f64 v0
    ///     return v1
    /// }
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.reductions {
            writeln!(f, "reduce {}: {} = {r} {{", r.name, r.dtype().short_name())?;
            for line in r.input.to_string().lines() {
                writeln!(f, "    {line}")?;
            }
            writeln!(f, "}}")?;
        }
        write!(f, "{}", self.main)
    }
}
