//! Runs the expression tables of `tests/testdata/` through the public API.

mod common;

use common::tables::{self, Case};
use exprjit::{Array, Error, Vars};

fn vars(case: &Case) -> Vars<'_> {
    let mut v = Vars::new();
    for (name, a) in &case.vars {
        v.set(name.as_str(), a);
    }
    v
}

#[test]
fn reference_interpreter_passes_every_table() {
    tables::run_all("interpreter", &|case: &Case| -> Result<Array, Error> {
        exprjit::evaluate(&case.expr, &vars(case))
    });
}

#[test]
fn comparison_catches_a_wrong_answer() {
    // The runner must be able to fail: a wrong value, a wrong NaN position,
    // a wrong zero sign and a wrong dtype are all misses.
    let want = tables::parse_array("f64: 1, nan, -0.0").unwrap();
    for bad in [
        "f64: 1, 1, -0.0",
        "f64: 1, nan, 0.0",
        "f32: 1, nan, -0.0",
        "f64: 1.0000000000000002, nan, -0.0",
    ] {
        let got = tables::parse_array(bad).unwrap();
        assert!(tables::compare(&got, &want, 0).is_err(), "{bad} passed");
    }
    let close = tables::parse_array("f64: 1.0000000000000002, nan, -0.0").unwrap();
    assert!(tables::compare(&close, &want, 1).is_ok());
}
