//! Golden text tests of the CLIF that lowering produces for a few
//! expressions. `EXPRJIT_BLESS=1 cargo test -p exprjit-codegen --test
//! golden` rewrites the files under `tests/golden/`.

use exprjit_codegen::{Accuracy, Kernel, Layout, Options, without_fma};
use exprjit_ir::DType;
use std::path::PathBuf;

fn golden(name: &str, text: &str, env: &[(&str, DType)], layouts: &[Layout]) {
    golden_with(name, text, env, layouts, Accuracy::Fast);
}

fn golden_with(
    name: &str,
    text: &str,
    env: &[(&str, DType)],
    layouts: &[Layout],
    accuracy: Accuracy,
) {
    let func = exprjit_ir::compile(text, env).unwrap_or_else(|e| panic!("{e}"));
    let opts = Options {
        accuracy,
        ..Options::default()
    };
    // The math routines' code depends on the host's FMA: pin the portable
    // variant so that the golden text is the same on every machine.
    let kernel =
        without_fma(|| Kernel::compile(&func, layouts, &opts)).unwrap_or_else(|e| panic!("{e}"));
    let got = format!(
        "; {text}\n; layouts {layouts:?}, {accuracy:?}, {} lanes x {} unrolled\n{}",
        kernel.lanes(),
        kernel.unroll(),
        kernel.clif()
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.clif"));
    if std::env::var_os("EXPRJIT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &got).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with EXPRJIT_BLESS=1 to create it)",
            path.display()
        )
    });
    assert!(
        got == want,
        "{} differs (EXPRJIT_BLESS=1 to accept):\n--- got\n{got}\n--- want\n{want}",
        path.display()
    );
}

use DType::*;
use Layout::*;

#[test]
fn mul_add_f64() {
    golden(
        "mul_add_f64",
        "a*b+c",
        &[("a", F64), ("b", F64), ("c", F64)],
        &[Contiguous; 3],
    );
}

#[test]
fn where_f32_strided_broadcast() {
    golden(
        "where_f32",
        "where(a < b, a, b * 2)",
        &[("a", F32), ("b", F32)],
        &[Strided, Broadcast],
    );
}

#[test]
fn mixed_widths_and_bool_output() {
    golden(
        "mixed_widths",
        "i * x > 1.5",
        &[("i", I32), ("x", F64)],
        &[Contiguous; 2],
    );
}

#[test]
fn integer_floordiv_lanes() {
    golden(
        "floordiv_i64",
        "a // b",
        &[("a", I64), ("b", I64)],
        &[Contiguous; 2],
    );
}

#[test]
fn libm_call_per_lane() {
    golden_with(
        "exp_f32",
        "exp(x)",
        &[("x", F32)],
        &[Contiguous],
        Accuracy::Strict,
    );
}

#[test]
fn vector_math_routine() {
    golden("exp_f64_fast", "exp(x)", &[("x", F64)], &[Contiguous]);
}

#[test]
fn integer_power_as_products() {
    golden("pow3_f64_fast", "x ** 3", &[("x", F64)], &[Contiguous]);
}
