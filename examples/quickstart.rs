//! Evaluates a few expressions through the public API and prints them.
//!
//! Run with `cargo run --release --example quickstart`.

use exprjit::{Vars, evaluate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<f64> = (0..8).map(|i| i as f64 * 0.5).collect();
    let b: Vec<f64> = (0..8).map(|i| 1.0 + i as f64).collect();
    let c = 2.5f64;
    let flags = [true, false, true, true, false, false, true, false];
    let n: Vec<i32> = (-4..4).collect();

    let vars = exprjit::vars! {a, b, c = c, flags, n};
    for expr in [
        "a*b + c",
        "where(flags, sqrt(a), -b)",
        "n // 3 + n % 3",
        "(a > 1) & (b < 7)",
        "float32(n) * 0.5",
        "sin(a)**2 + cos(a)**2",
    ] {
        let r = evaluate(expr, &vars)?;
        println!("{expr:<28} -> {} {:?}", r.dtype(), r.data());
    }

    // Errors point at the part of the expression they are about.
    for bad in ["a + d", "a & b", "sqrt(a, b)", "0 < a < 1"] {
        match evaluate(bad, &Vars::new().with("a", &a).with("b", &b)) {
            Ok(r) => println!("{bad}: unexpectedly gave {:?}", r.data()),
            Err(e) => println!("\n{e}"),
        }
    }
    Ok(())
}
