//! Turns an expression into the text of each compiler phase for the debug
//! commands: the syntax tree (`:ast`), the typed IR after the passes
//! (`:ir`), the Cranelift IR (`:clif`) and the machine code (`:asm`) of the
//! kernel that the session's variables would run.

use crate::problem::Problem;
use exprjit::internals::codegen::{self, Kernel, Layout};
use exprjit::internals::ir::shape::broadcast;
use exprjit::internals::ir::{self, Func, InstKind, Program};
use exprjit::internals::syntax::{self, Expr, ExprKind};
use exprjit::{ErrorKind, Vars};
use std::fmt::Write;

/// `:ast`: the expression fully parenthesised, then its tree with the byte
/// span of every node.
pub(crate) fn ast(text: &str, offset: usize) -> Result<String, Problem> {
    let expr = syntax::parse(text).map_err(|e| Problem::expr(e.into(), offset))?;
    let mut out = format!("{expr:#}\n");
    // An explicit stack: the tree may be up to MAX_DEPTH deep. Each entry
    // holds a node, its branch drawing and the indent of its children.
    let mut stack: Vec<(&Expr, String, String)> = vec![(&expr, String::new(), String::new())];
    while let Some((e, branch, indent)) = stack.pop() {
        let _ = writeln!(out, "{branch}{}  {}..{}", node(e), e.span.start, e.span.end);
        let children: Vec<(&Expr, String)> = match &e.kind {
            ExprKind::Unary(_, x) => vec![(x.as_ref(), String::new())],
            ExprKind::Binary(_, l, r) => {
                vec![(l.as_ref(), String::new()), (r.as_ref(), String::new())]
            }
            ExprKind::Call { args, .. } => args
                .iter()
                .map(|a| {
                    let kw = a
                        .name
                        .as_ref()
                        .map_or(String::new(), |(n, _)| format!("{n}="));
                    (&a.value, kw)
                })
                .collect(),
            _ => Vec::new(),
        };
        let n = children.len();
        // Pushed in reverse so that the first child is printed first.
        for (k, (child, kw)) in children.into_iter().enumerate().rev() {
            let last = k + 1 == n;
            let (b, i) = if last {
                ("└─ ", "   ")
            } else {
                ("├─ ", "│  ")
            };
            stack.push((child, format!("{indent}{b}{kw}"), format!("{indent}{i}")));
        }
    }
    out.pop();
    Ok(out)
}

fn node(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(i) => format!("int {i}"),
        ExprKind::Float(x) => format!("float {x:?}"),
        ExprKind::Bool(b) => format!("bool {}", if *b { "True" } else { "False" }),
        ExprKind::Name(n) => format!("name {n}"),
        ExprKind::Unary(op, _) => format!("unary {op}"),
        ExprKind::Binary(op, _, _) => format!("binary {op}"),
        ExprKind::Call { name, .. } => format!("call {name}"),
    }
}

/// The layout each parameter of `func` gets when the session's (contiguous)
/// variables are broadcast together, as the runtime's planner chooses it:
/// the stride along the last result dimension that is not 1.
pub(crate) fn layouts(func: &Func, vars: &Vars<'_>) -> Vec<Layout> {
    let shapes: Vec<&[usize]> = func
        .params
        .iter()
        .map(|p| vars.get(&p.name).map_or(&[][..], |o| o.shape()))
        .collect();
    let ndim = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut result = vec![1usize; ndim];
    for s in &shapes {
        for (k, &d) in s.iter().enumerate() {
            let r = &mut result[ndim - s.len() + k];
            if d != 1 {
                *r = d;
            }
        }
    }
    let Some(last) = result.iter().rposition(|&d| d != 1) else {
        return vec![Layout::Broadcast; shapes.len()];
    };
    shapes
        .iter()
        .map(|s| {
            let off = ndim - s.len();
            if last < off || s[last - off] == 1 {
                return Layout::Broadcast;
            }
            let stride: usize = s[last - off + 1..].iter().product();
            if stride == 1 {
                Layout::Contiguous
            } else {
                Layout::Strided
            }
        })
        .collect()
}

/// The typed, simplified program of `text` (its reductions, then the
/// elementwise function over their results) for the session's variables.
pub(crate) fn program(text: &str, offset: usize, vars: &Vars<'_>) -> Result<Program, Problem> {
    ir::compile_program(text, vars).map_err(|e| Problem::expr(e, offset))
}

/// Compiles the kernels that evaluating `text` would run, outside the
/// cache: each reduction's input (innermost first), then the elementwise
/// function over the reductions' results, each with a header line.
pub(crate) fn kernels(
    text: &str,
    offset: usize,
    vars: &Vars<'_>,
) -> Result<Vec<(Kernel, String)>, Problem> {
    fn collect<'p>(p: &'p Program, text: &str, out: &mut Vec<(&'p Func, Option<String>)>) {
        for r in &p.reductions {
            collect(&r.input, text, out);
            out.push((
                &r.input.main,
                Some(format!(
                    "reduction {}: the kernel of its input `{}`",
                    r.name,
                    r.input_text(text)
                )),
            ));
        }
    }
    let program = program(text, offset, vars)?;
    let mut funcs = Vec::new();
    collect(&program, text, &mut funcs);
    funcs.push((&program.main, None));
    let mut out = Vec::new();
    for (f, what) in funcs {
        let (k, header) = compile(f, text, offset, vars)?;
        let header = match what {
            Some(w) => format!("; {w}\n{header}"),
            None if !program.reductions.is_empty() => {
                format!("; the elementwise kernel over the reductions' results\n{header}")
            }
            None => header,
        };
        out.push((k, header));
    }
    Ok(out)
}

/// Compiles `f` as the runtime would for the session's variables (names
/// that are not variables, like reduction results, count as scalars).
fn compile(
    f: &Func,
    text: &str,
    offset: usize,
    vars: &Vars<'_>,
) -> Result<(Kernel, String), Problem> {
    check_shapes(f, text, offset, vars)?;
    let layouts = layouts(f, vars);
    let k = Kernel::compile(f, &layouts, &codegen::Options::default()).map_err(|e| {
        Problem::new(
            format!("internal error (a bug in exprjit): {e}"),
            offset..offset + text.len(),
        )
    })?;
    let params: Vec<String> = f
        .params
        .iter()
        .zip(&layouts)
        .map(|(p, l)| format!("{}: {} {}", p.name, p.dtype.short_name(), layout_name(*l)))
        .collect();
    let header = format!(
        "; ({}) -> {}; {} lanes x {} unrolled; {} bytes of machine code",
        params.join(", "),
        f.result_dtype().short_name(),
        k.lanes(),
        k.unroll(),
        k.code_size()
    );
    Ok((k, header))
}

/// The runtime's shape error, if the variables do not broadcast together.
fn check_shapes(f: &Func, text: &str, offset: usize, vars: &Vars<'_>) -> Result<(), Problem> {
    let shapes: Vec<&[usize]> = f
        .params
        .iter()
        .map(|p| vars.get(&p.name).map_or(&[][..], |o| o.shape()))
        .collect();
    let Err(i) = broadcast(shapes.iter().copied()) else {
        return Ok(());
    };
    let left = broadcast(shapes[..i].iter().copied()).unwrap_or_default();
    let span = f
        .insts
        .iter()
        .find(|inst| inst.kind == InstKind::Param(i as u32))
        .map(|inst| inst.span);
    let kind = ErrorKind::ShapeMismatch {
        left,
        right: shapes[i].to_vec(),
    };
    Err(Problem::expr(exprjit::Error::new(kind, span, text), offset))
}

fn layout_name(l: Layout) -> &'static str {
    match l {
        Layout::Contiguous => "contiguous",
        Layout::Strided => "strided",
        Layout::Broadcast => "broadcast",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exprjit::Array;

    #[test]
    fn tree_of_an_expression() {
        let t = ast("-a*b + f(x, k=1)", 0).expect("parses");
        assert!(
            t.starts_with("(((-a) * b) + f(x, k=1))\nbinary +  0..16\n├─ binary *  0..4\n"),
            "{t}"
        );
        assert!(t.contains("   └─ k=int 1  14..15"), "{t}");
    }

    #[test]
    fn layouts_follow_broadcasting() {
        let m = Array::from_vec(vec![3, 4], vec![0.0f64; 12]).expect("m");
        let col = Array::from_vec(vec![3, 1], vec![0.0f64; 3]).expect("col");
        let row = Array::from_vec(vec![4], vec![0.0f64; 4]).expect("row");
        let vars = Vars::new()
            .with("m", &m)
            .with("col", &col)
            .with("row", &row)
            .with("k", 2.0);
        let f = program("m + col + row + k", 0, &vars).expect("checks").main;
        assert_eq!(
            layouts(&f, &vars),
            vec![
                Layout::Contiguous,
                Layout::Broadcast,
                Layout::Contiguous,
                Layout::Broadcast
            ]
        );
    }
}
