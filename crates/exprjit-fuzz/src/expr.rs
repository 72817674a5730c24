//! Expression trees for the fuzzer: how they print (fully parenthesised, so
//! that every node's text is a sub-expression that parses on its own), how
//! they come back from the parser's AST, paths for the shrinker, and a
//! model of the type checker (NEP 50 promotion with weak literals, numpy
//! broadcasting, reductions) that steers generation towards well-typed
//! expressions and cross-checks the checker's result.

use exprjit::internals::ir::ops::{Promote, ResultRule, Syntax};
use exprjit::internals::ir::{DType, Op, ReduceOp, Scalar};
use exprjit::internals::syntax::{BinaryOp, Expr, ExprKind, UnaryOp};
use std::fmt;

/// An expression: names (variables or the constants `pi e inf nan`),
/// non-negative literals, operators and calls.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Name(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Unary(UnaryOp, Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    Call(String, Vec<Arg>),
}

/// A call argument, positional or `keyword=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub keyword: Option<String>,
    pub value: Node,
}

impl Arg {
    pub fn pos(value: Node) -> Arg {
        Arg {
            keyword: None,
            value,
        }
    }
    pub fn kw(keyword: &str, value: Node) -> Arg {
        Arg {
            keyword: Some(keyword.to_string()),
            value,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Name(n) => f.write_str(n),
            Node::Int(i) => write!(f, "{i}"),
            // `{:?}` is the shortest text that reads back to the same bits
            // (`0.1`, `1e300`, `5e-324`), all forms the lexer accepts.
            Node::Float(x) => write!(f, "{x:?}"),
            Node::Bool(true) => f.write_str("True"),
            Node::Bool(false) => f.write_str("False"),
            Node::Unary(op, x) => write!(f, "({}{x})", op.symbol()),
            Node::Binary(op, l, r) => write!(f, "({l} {} {r})", op.symbol()),
            Node::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if let Some(k) = &a.keyword {
                        write!(f, "{k}=")?;
                    }
                    write!(f, "{}", a.value)?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Node {
    pub fn int(i: i64) -> Node {
        if i < 0 {
            Node::Unary(UnaryOp::Neg, Box::new(Node::Int(i.unsigned_abs() as i64)))
        } else {
            Node::Int(i)
        }
    }

    pub fn float(x: f64) -> Node {
        if x.is_nan() {
            Node::Name("nan".into())
        } else if x.is_infinite() {
            let inf = Node::Name("inf".into());
            if x < 0.0 {
                Node::Unary(UnaryOp::Neg, Box::new(inf))
            } else {
                inf
            }
        } else if x.is_sign_negative() {
            Node::Unary(UnaryOp::Neg, Box::new(Node::Float(-x)))
        } else {
            Node::Float(x)
        }
    }

    pub fn call(name: &str, args: Vec<Node>) -> Node {
        Node::Call(name.to_string(), args.into_iter().map(Arg::pos).collect())
    }

    /// The tree of a parsed expression.
    pub fn from_ast(e: &Expr) -> Node {
        match &e.kind {
            ExprKind::Int(i) => Node::Int(*i),
            ExprKind::Float(x) => Node::Float(*x),
            ExprKind::Bool(b) => Node::Bool(*b),
            ExprKind::Name(n) => Node::Name(n.clone()),
            ExprKind::Unary(op, x) => Node::Unary(*op, Box::new(Node::from_ast(x))),
            ExprKind::Binary(op, l, r) => Node::Binary(
                *op,
                Box::new(Node::from_ast(l)),
                Box::new(Node::from_ast(r)),
            ),
            ExprKind::Call { name, args, .. } => Node::Call(
                name.clone(),
                args.iter()
                    .map(|a| Arg {
                        keyword: a.name.as_ref().map(|(k, _)| k.clone()),
                        value: Node::from_ast(&a.value),
                    })
                    .collect(),
            ),
        }
    }

    pub fn children(&self) -> Vec<&Node> {
        match self {
            Node::Unary(_, x) => vec![x],
            Node::Binary(_, l, r) => vec![l, r],
            Node::Call(_, args) => args.iter().map(|a| &a.value).collect(),
            _ => Vec::new(),
        }
    }

    fn child_mut(&mut self, i: usize) -> Option<&mut Node> {
        match self {
            Node::Unary(_, x) if i == 0 => Some(x),
            Node::Binary(_, l, _) if i == 0 => Some(l),
            Node::Binary(_, _, r) if i == 1 => Some(r),
            Node::Call(_, args) => args.get_mut(i).map(|a| &mut a.value),
            _ => None,
        }
    }

    pub fn get(&self, path: &[usize]) -> Option<&Node> {
        match path.split_first() {
            None => Some(self),
            Some((i, rest)) => self.children().get(*i)?.get(rest),
        }
    }

    /// A copy with the node at `path` replaced.
    pub fn replaced(&self, path: &[usize], with: Node) -> Node {
        let mut out = self.clone();
        let mut at = &mut out;
        for &i in path {
            match at.child_mut(i) {
                Some(c) => at = c,
                None => return self.clone(),
            }
        }
        *at = with;
        out
    }

    /// Every node's path, children before parents (post-order).
    pub fn paths(&self) -> Vec<Vec<usize>> {
        fn go(n: &Node, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            for (i, c) in n.children().into_iter().enumerate() {
                prefix.push(i);
                go(c, prefix, out);
                prefix.pop();
            }
            out.push(prefix.clone());
        }
        let mut out = Vec::new();
        go(self, &mut Vec::new(), &mut out);
        out
    }

    pub fn size(&self) -> usize {
        1 + self.children().iter().map(|c| c.size()).sum::<usize>()
    }

    /// Whether the node reads no bound variable (only literals and named
    /// constants): the checker folds such sub-expressions itself.
    pub fn is_constant(&self, bound: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Node::Name(n) => !bound(n),
            Node::Int(_) | Node::Float(_) | Node::Bool(_) => true,
            // A reduction is never folded: its input is materialised.
            Node::Call(name, _) if ReduceOp::from_name(name).is_some() => false,
            _ => self.children().iter().all(|c| c.is_constant(bound)),
        }
    }

    /// Whether the variable `name` is read inside a `roll(...)`.
    pub fn rolls_name(&self, name: &str) -> bool {
        match self {
            Node::Call(f, args) if f == "roll" => args.iter().any(|a| a.value.mentions(name)),
            _ => self.children().iter().any(|c| c.rolls_name(name)),
        }
    }

    /// Whether `name` is read other than inside a reduction's input (the
    /// elementwise part of the expression reads it).
    pub fn reads_elementwise(&self, name: &str) -> bool {
        match self {
            Node::Name(n) => n == name,
            Node::Call(f, _) if ReduceOp::from_name(f).is_some() => false,
            _ => self.children().iter().any(|c| c.reads_elementwise(name)),
        }
    }

    pub fn mentions(&self, name: &str) -> bool {
        match self {
            Node::Name(n) => n == name,
            _ => self.children().iter().any(|c| c.mentions(name)),
        }
    }

    /// The operation a node applies, if it is a libm one (`exp`, `sin`,
    /// ..., `**`): those are the ones `Accuracy::Fast` may round
    /// differently.
    pub fn libm_op(&self) -> Option<Op> {
        let op = match self {
            Node::Binary(BinaryOp::Pow, _, _) => Op::Pow,
            Node::Call(name, _) => Op::function(name)?,
            _ => return None,
        };
        (op.info().exactness == exprjit::internals::ir::ops::Exactness::Libm).then_some(op)
    }
}

/// What the model knows of a checked sub-expression: its dtype, its value
/// if it is a weak (literal-only) constant, and its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Ty {
    pub dtype: DType,
    pub weak: Option<Scalar>,
    pub shape: Vec<usize>,
}

/// Why the model rejects an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    /// A type, name, arity or argument error.
    Type,
    /// Shapes that do not broadcast.
    Shape,
    /// An axis out of range (a reduction's or a roll's).
    Axis,
    /// `min`, `max` or `mean` of nothing.
    Empty,
    /// A shape whose element count overflows.
    TooLarge,
}

const CONSTANTS: [(&str, f64); 4] = [
    ("pi", std::f64::consts::PI),
    ("e", std::f64::consts::E),
    ("inf", f64::INFINITY),
    ("nan", f64::NAN),
];

/// The variables' dtypes and shapes, by name.
pub type Scope<'a> = dyn Fn(&str) -> Option<(DType, Vec<usize>)> + 'a;

/// NumPy's broadcasting of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Result<Vec<usize>, Reject> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for k in 0..n {
        let x = if k < n - a.len() {
            1
        } else {
            a[k - (n - a.len())]
        };
        let y = if k < n - b.len() {
            1
        } else {
            b[k - (n - b.len())]
        };
        out[k] = match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(Reject::Shape),
        };
    }
    Ok(out)
}

/// The element count of a shape, `None` on overflow.
pub fn count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The model of `exprjit_ir::check`: `scope` gives each bound variable's
/// dtype and shape.
pub fn infer(node: &Node, scope: &Scope<'_>) -> Result<Ty, Reject> {
    let ty = infer_inner(node, scope)?;
    if count(&ty.shape).is_none() {
        return Err(Reject::TooLarge);
    }
    Ok(ty)
}

fn strong(t: &Ty) -> Ty {
    match t.weak {
        Some(s) => Ty {
            dtype: s.dtype(),
            weak: None,
            shape: Vec::new(),
        },
        None => t.clone(),
    }
}

fn infer_inner(node: &Node, scope: &Scope<'_>) -> Result<Ty, Reject> {
    let weak = |s: Scalar| Ty {
        dtype: s.dtype(),
        weak: Some(s),
        shape: Vec::new(),
    };
    match node {
        Node::Int(i) => Ok(weak(Scalar::I64(*i))),
        Node::Float(x) => Ok(weak(Scalar::F64(*x))),
        Node::Bool(b) => Ok(weak(Scalar::Bool(*b))),
        Node::Name(n) => {
            if let Some((dtype, shape)) = scope(n) {
                return Ok(Ty {
                    dtype,
                    weak: None,
                    shape,
                });
            }
            match CONSTANTS.iter().find(|(c, _)| c == n) {
                Some((_, x)) => Ok(weak(Scalar::F64(*x))),
                None => Err(Reject::Type),
            }
        }
        Node::Unary(UnaryOp::Plus, x) => infer_inner(x, scope),
        Node::Unary(op, x) => {
            let t = infer_inner(x, scope)?;
            let op = match op {
                UnaryOp::Neg => Op::Neg,
                _ => Op::Not,
            };
            apply(op, &[t])
        }
        Node::Binary(op, l, r) => {
            let a = infer_inner(l, scope)?;
            let b = infer_inner(r, scope)?;
            apply(binary_op(*op), &[a, b])
        }
        Node::Call(name, args) if name == "roll" => {
            let mut slots: [Option<&Node>; 3] = [None; 3];
            for (i, a) in args.iter().enumerate() {
                let slot = match a.keyword.as_deref() {
                    None if i < 3 => i,
                    Some("shift") => 1,
                    Some("axis") => 2,
                    _ => return Err(Reject::Type),
                };
                slots[slot] = Some(&a.value);
            }
            let [Some(x), Some(shift), Some(axis)] = slots else {
                return Err(Reject::Type);
            };
            let (Some(Scalar::I64(_)), Some(Scalar::I64(axis))) = (
                infer_inner(shift, &|_| None)?.weak,
                infer_inner(axis, &|_| None)?.weak,
            ) else {
                return Err(Reject::Type);
            };
            // Per the rolled value's shape; a constant is 0-d, so every
            // axis is out of range for it.
            let t = infer_inner(x, scope)?;
            let nd = t.shape.len() as i64;
            if axis < -nd || axis >= nd {
                return Err(Reject::Axis);
            }
            Ok(t)
        }
        Node::Call(name, args) if let Some(op) = ReduceOp::from_name(name) => {
            let mut x = None;
            let mut axis = None;
            let mut keepdims = None;
            let mut seen = 0;
            for a in args {
                let slot = match a.keyword.as_deref() {
                    None => {
                        seen += 1;
                        match seen {
                            1 => &mut x,
                            2 => &mut axis,
                            _ => return Err(Reject::Type),
                        }
                    }
                    Some("axis") => &mut axis,
                    Some("keepdims") => &mut keepdims,
                    Some(_) => return Err(Reject::Type),
                };
                if slot.is_some() {
                    return Err(Reject::Type);
                }
                *slot = Some(&a.value);
            }
            let x = x.ok_or(Reject::Type)?;
            let axis = match axis {
                None => None,
                Some(a) => match infer_inner(a, &|_| None).map(|t| t.weak) {
                    Ok(Some(Scalar::I64(v))) => Some(v),
                    _ => return Err(Reject::Type),
                },
            };
            let keepdims = match keepdims {
                None => false,
                Some(k) => match infer_inner(k, &|_| None).map(|t| t.weak) {
                    Ok(Some(Scalar::Bool(b))) => b,
                    _ => return Err(Reject::Type),
                },
            };
            let t = strong(&infer_inner(x, scope)?);
            if count(&t.shape).is_none() {
                return Err(Reject::TooLarge);
            }
            let dtype = op.result_dtype(t.dtype);
            let needs_values = matches!(op, ReduceOp::Min | ReduceOp::Max | ReduceOp::Mean);
            let shape = match axis {
                None => {
                    if needs_values && count(&t.shape) == Some(0) {
                        return Err(Reject::Empty);
                    }
                    if keepdims {
                        vec![1; t.shape.len()]
                    } else {
                        Vec::new()
                    }
                }
                Some(a) => {
                    let nd = t.shape.len() as i64;
                    let a = if a < 0 { a + nd } else { a };
                    if a < 0 || a >= nd {
                        return Err(Reject::Axis);
                    }
                    let a = a as usize;
                    let mut rest = t.shape.clone();
                    let len = rest.remove(a);
                    if needs_values && len == 0 && count(&rest) != Some(0) {
                        return Err(Reject::Empty);
                    }
                    if keepdims {
                        rest.insert(a, 1);
                    }
                    rest
                }
            };
            Ok(Ty {
                dtype,
                weak: None,
                shape,
            })
        }
        Node::Call(name, args) => {
            if args.iter().any(|a| a.keyword.is_some()) {
                return Err(Reject::Type);
            }
            let arity = if name == "clip" {
                3
            } else {
                Op::function(name).ok_or(Reject::Type)?.info().arity
            };
            if args.len() != arity {
                return Err(Reject::Type);
            }
            let ts = args
                .iter()
                .map(|a| infer_inner(&a.value, scope))
                .collect::<Result<Vec<_>, _>>()?;
            match Op::function(name) {
                Some(op) => apply(op, &ts),
                None => {
                    let lo = apply(Op::Maximum, &ts[..2])?;
                    apply(Op::Minimum, &[lo, ts[2].clone()])
                }
            }
        }
    }
}

pub fn binary_op(op: BinaryOp) -> Op {
    use BinaryOp as B;
    match op {
        B::Add => Op::Add,
        B::Sub => Op::Sub,
        B::Mul => Op::Mul,
        B::Div => Op::Div,
        B::FloorDiv => Op::FloorDiv,
        B::Mod => Op::Mod,
        B::Pow => Op::Pow,
        B::Lt => Op::Lt,
        B::Le => Op::Le,
        B::Eq => Op::Eq,
        B::Ne => Op::Ne,
        B::Ge => Op::Ge,
        B::Gt => Op::Gt,
        B::BitAnd => Op::And,
        B::BitOr => Op::Or,
        B::BitXor => Op::Xor,
        B::Shl => Op::Shl,
        B::Shr => Op::Shr,
    }
}

/// NEP 50 common dtype (the checker's `common`).
fn common(ts: &[Ty]) -> DType {
    let mut strong: Option<DType> = None;
    let mut weak = None;
    for t in ts {
        match t.weak {
            None => strong = Some(strong.map_or(t.dtype, |s| s.promote(t.dtype))),
            Some(s) => {
                let k = s.dtype().kind();
                weak = Some(weak.map_or(k, |w: exprjit::internals::ir::Kind| w.max(k)));
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

fn apply(op: Op, args: &[Ty]) -> Result<Ty, Reject> {
    let info = op.info();
    let values = match info.promote {
        Promote::Where => &args[1..],
        _ => args,
    };
    let c = match info.promote {
        Promote::Keep => values[0].dtype,
        _ => {
            let c = common(values);
            if info.promote == Promote::ToFloat && !c.is_float() {
                DType::F64
            } else {
                c
            }
        }
    };
    if !info.accepts.contains(c) {
        return Err(Reject::Type);
    }
    if op == Op::Pow
        && c.is_int()
        && let Some(Scalar::I64(e)) = values[1].weak
        && e < 0
    {
        return Err(Reject::Type);
    }
    // Weak integers must fit the dtype they meet.
    for t in values {
        if let (Some(Scalar::I64(x)), DType::I32) = (t.weak, c)
            && i32::try_from(x).is_err()
        {
            return Err(Reject::Type);
        }
    }
    let result = match info.result {
        ResultRule::Same => c,
        ResultRule::Bool => DType::Bool,
        ResultRule::Target => op.result_dtype(c),
    };
    let mut shape = Vec::new();
    for t in args {
        shape = broadcast(&shape, &t.shape)?;
    }
    if args.iter().all(|t| t.weak.is_some()) {
        let mut scalars = Vec::new();
        if info.promote == Promote::Where
            && let Some(s) = args[0].weak
        {
            scalars.push(s.cast(DType::Bool));
        }
        for t in values {
            if let Some(s) = t.weak {
                scalars.push(s.cast(c));
            }
        }
        let folded = (info.eval)(&scalars, result);
        return Ok(match op {
            Op::Cast(_) => Ty {
                dtype: result,
                weak: None,
                shape: Vec::new(),
            },
            _ => {
                let s = folded.cast(folded.dtype().kind().default_dtype());
                Ty {
                    dtype: s.dtype(),
                    weak: Some(s),
                    shape: Vec::new(),
                }
            }
        });
    }
    Ok(Ty {
        dtype: result,
        weak: None,
        shape,
    })
}

/// The functions called by name that map to one table operation (casts
/// apart).
pub fn table_functions() -> Vec<(Op, &'static str, usize)> {
    Op::ALL
        .iter()
        .filter(|op| op.info().syntax == Syntax::Function && !matches!(op, Op::Cast(_)))
        .map(|op| (*op, op.info().name, op.info().arity))
        .collect()
}
