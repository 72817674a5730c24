//! Turns `grammar/expr.lalrpop` into the table-driven LR parser `$OUT_DIR/expr.rs`.

use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR not set")?);
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR not set")?);
    // The grammar lives in the workspace's top-level `grammar/` folder so that
    // it can be read (and reviewed) on its own.
    let grammar = manifest_dir.join("../../grammar/expr.lalrpop");
    // `emit_rerun_directives` prints `cargo:rerun-if-changed=<grammar>`.
    // Without `set_out_dir`, `process_file` would write the parser next to the
    // grammar, into the source tree.
    lalrpop::Configuration::new()
        .set_out_dir(out_dir)
        .emit_rerun_directives(true)
        .process_file(grammar)?;
    Ok(())
}
