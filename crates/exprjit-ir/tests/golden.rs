//! Golden-text tests of the type checker and the passes: each case prints
//! the IR before and after `simplify` and compares it with a file under
//! `tests/golden/`. Run with `EXPRJIT_BLESS=1` to rewrite the files.

use exprjit_ir::{DType, check, check_program, passes};
use std::path::PathBuf;

/// (file name, expression, variables)
type Case = (&'static str, &'static str, &'static [(&'static str, DType)]);

const CASES: &[Case] = &[
    (
        "fma_shape",
        "a*b+c",
        &[("a", DType::F64), ("b", DType::F64), ("c", DType::F64)],
    ),
    ("cse_sin", "sin(x) + sin(x)", &[("x", DType::F64)]),
    (
        "cse_nested",
        "(a*b + 1) / (a*b + 1)**2",
        &[("a", DType::F32), ("b", DType::F32)],
    ),
    (
        "fold_literals",
        "x * (2**10 + 1) - pi/2",
        &[("x", DType::F64)],
    ),
    ("weak_float_keeps_f32", "x * 2.5 + 1", &[("x", DType::F32)]),
    ("no_reciprocal_rewrite", "x / 3.0", &[("x", DType::F64)]),
    (
        "promote_i32_f32",
        "i + f",
        &[("i", DType::I32), ("f", DType::F32)],
    ),
    (
        "int_true_division",
        "i / j",
        &[("i", DType::I32), ("j", DType::I64)],
    ),
    (
        "identity_cast_removed",
        "float64(x) + float32(x)",
        &[("x", DType::F64)],
    ),
    (
        "where_promotes",
        "where(m, i, 0.5)",
        &[("m", DType::Bool), ("i", DType::I32)],
    ),
    ("clip_desugars", "clip(x, 0, 1)", &[("x", DType::F64)]),
    (
        "float_fn_of_int",
        "sqrt(i) + isnan(i)",
        &[("i", DType::I64)],
    ),
    ("literal_only", "2 + 3 * 4", &[]),
    (
        "roll_diffusion",
        "u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)",
        &[("u", DType::F64), ("D", DType::F64), ("dt", DType::F64)],
    ),
    (
        "roll_nested",
        "roll(roll(a*b, 1, 0) + a, -2, -1)",
        &[("a", DType::F32), ("b", DType::F32)],
    ),
    (
        "fold_strong_cast",
        "x + float32(1) / float32(3)",
        &[("x", DType::F32)],
    ),
    (
        "diffusion_like",
        "u + d*(v - 4*u) + d*(v - 4*u)",
        &[("u", DType::F64), ("v", DType::F64), ("d", DType::F64)],
    ),
];

/// Programs: expressions with reductions, split into reductions and an
/// elementwise main function.
const PROGRAMS: &[Case] = &[
    ("reduce_norm", "sqrt(sum(v*v))", &[("v", DType::F64)]),
    (
        "reduce_nested",
        "sum(x - mean(x)) + mean(x)",
        &[("x", DType::I32)],
    ),
    (
        "reduce_axis_roll",
        "roll(u - mean(u, axis=0), 1, 0) + max(abs(u), -1, keepdims=True)",
        &[("u", DType::F32)],
    ),
    (
        "reduce_dtypes",
        "sum(m) + prod(i) + any(f) + all(f) + min(i)",
        &[("m", DType::Bool), ("i", DType::I32), ("f", DType::F64)],
    ),
];

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.ir"))
}

fn render(expr: &str, vars: &[(&str, DType)]) -> String {
    let ast = exprjit_syntax::parse(expr).expect("golden expressions parse");
    let checked = check(&ast, expr, vars).expect("golden expressions check");
    checked.verify().expect("checker output verifies");
    let simplified = passes::simplify(&checked);
    simplified.verify().expect("simplified IR verifies");
    format!("; {expr}\n; checked\n{checked}\n; simplified\n{simplified}\n")
}

fn render_program(expr: &str, vars: &[(&str, DType)]) -> String {
    let ast = exprjit_syntax::parse(expr).expect("golden expressions parse");
    let checked = check_program(&ast, expr, vars).expect("golden expressions check");
    checked.verify().expect("checker output verifies");
    let simplified = passes::simplify_program(&checked);
    simplified.verify().expect("simplified IR verifies");
    format!("; {expr}\n; checked\n{checked}\n; simplified\n{simplified}\n")
}

#[test]
fn golden_ir() {
    let bless = std::env::var_os("EXPRJIT_BLESS").is_some();
    let mut failures = Vec::new();
    let rendered = CASES
        .iter()
        .map(|(name, expr, vars)| (name, render(expr, vars)))
        .chain(
            PROGRAMS
                .iter()
                .map(|(name, expr, vars)| (name, render_program(expr, vars))),
        );
    for (name, got) in rendered {
        let path = golden_path(name);
        if bless {
            std::fs::write(&path, &got).expect("write golden file");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!("{name}: expected\n{want}\ngot\n{got}")),
            Err(_) => failures.push(format!("{name}: missing {}; got\n{got}", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "golden IR differs (EXPRJIT_BLESS=1 to accept):\n{}",
        failures.join("\n")
    );
}
