//! Lists the names an expression reads (variables or the constants `pi`,
//! `e`, `inf`, `nan`) with the span of each first use, cached per text.
//!
//! The binding needs them before evaluating: they are the keys it looks up
//! in the caller's dictionaries (numexpr's `getArguments`), and the spans
//! let a conversion error point at the variable.

use exprjit::internals::syntax::{self, Expr, ExprKind, Span};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// The names of one expression in order of first appearance.
#[derive(Debug)]
pub(crate) struct Names {
    pub(crate) names: Vec<(String, Span)>,
    /// Every function it calls works element by element (no `roll`, no
    /// reduction): then its result does not depend on how the operands'
    /// axes are arranged, so the binding may flatten or reverse them.
    pub(crate) elementwise: bool,
    /// Every function it calls is elementwise or `roll`: the result has
    /// the broadcast shape of the operands (no reduction).
    pub(crate) shape_preserving: bool,
    /// Nodes of the syntax tree: about the operations per element.
    pub(crate) nodes: usize,
}

/// The functions that compute each element from the same element of
/// their operands. Anything else (`roll`, later reductions) is assumed to
/// depend on axes.
const ELEMENTWISE: &[&str] = &[
    "where",
    "abs",
    "sqrt",
    "exp",
    "expm1",
    "log",
    "log1p",
    "log10",
    "log2",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "arctan2",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "floor",
    "ceil",
    "trunc",
    "round",
    "sign",
    "signbit",
    "isnan",
    "isinf",
    "isfinite",
    "fmod",
    "hypot",
    "copysign",
    "nextafter",
    "maximum",
    "minimum",
    "clip",
    "bool",
    "int32",
    "int64",
    "float32",
    "float64",
];

/// Texts kept; past this many the cache starts over (a program evaluates
/// few distinct expressions; one that builds them on the fly must not grow
/// memory without bound).
const CAPACITY: usize = 1024;

type Cache = Mutex<HashMap<Box<str>, Arc<Names>>>;
static CACHE: OnceLock<Cache> = OnceLock::new();

/// The names `text` reads, or its syntax error.
pub(crate) fn of(text: &str) -> Result<Arc<Names>, exprjit::Error> {
    let cache = CACHE.get_or_init(Cache::default);
    // A panic while the lock was held leaves at worst a missing entry.
    if let Some(n) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(text) {
        return Ok(n.clone());
    }
    let ast = syntax::parse(text)?;
    let mut found = Found::default();
    collect(&ast, &mut found);
    let Found {
        names,
        calls,
        nodes,
        ..
    } = found;
    let elementwise = calls.iter().all(|c| ELEMENTWISE.contains(&c.as_str()));
    let shape_preserving = calls
        .iter()
        .all(|c| c == "roll" || ELEMENTWISE.contains(&c.as_str()));
    let names = Arc::new(Names {
        names,
        elementwise,
        shape_preserving,
        nodes,
    });
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= CAPACITY {
        map.clear();
    }
    map.insert(text.into(), names.clone());
    Ok(names)
}

/// What [`collect`] gathers.
#[derive(Default)]
struct Found {
    /// Names in order of first use, with that use's span.
    names: Vec<(String, Span)>,
    /// The same names, for lookups in constant time (an expression may have
    /// thousands).
    seen: HashSet<String>,
    /// The distinct functions called (at most the few exprjit has).
    calls: Vec<String>,
    nodes: usize,
}

/// Gathers the names under `e` and the functions it calls, and counts its
/// nodes. Recursion is bounded by the parser's `MAX_DEPTH`.
fn collect(e: &Expr, found: &mut Found) {
    found.nodes += 1;
    match &e.kind {
        ExprKind::Name(n) => {
            if found.seen.insert(n.clone()) {
                found.names.push((n.clone(), e.span));
            }
        }
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) => {}
        ExprKind::Unary(_, x) => collect(x, found),
        ExprKind::Binary(_, l, r) => {
            collect(l, found);
            collect(r, found);
        }
        // A function's name and keyword names are not variables.
        ExprKind::Call { name, args, .. } => {
            if !found.calls.contains(name) {
                found.calls.push(name.clone());
            }
            for a in args {
                collect(&a.value, found);
            }
        }
    }
}

/// The built-in constants, which a variable of the same name shadows.
pub(crate) fn is_constant(name: &str) -> bool {
    matches!(name, "pi" | "e" | "inf" | "nan")
}

/// The span `text[span]` as character offsets (Python string indices).
pub(crate) fn char_span(text: &str, span: Span) -> (usize, usize) {
    let at = |b: u32| {
        let mut b = (b as usize).min(text.len());
        while b > 0 && !text.is_char_boundary(b) {
            b -= 1;
        }
        text[..b].chars().count()
    };
    (at(span.start), at(span.end))
}
