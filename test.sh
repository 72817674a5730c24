#!/usr/bin/env bash
# The project's test command (the README's second set-up command): the Rust
# tests of every crate, then the Python binding's pytest suite (which makes
# a virtual environment, installs numpy, pytest, dask and numexpr from PyPI,
# and builds the extension; see crates/exprjit-python/run-tests.sh).
# EXPRJIT_SKIP_PYTHON=1 runs the Rust tests alone.
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace
if [ "${EXPRJIT_SKIP_PYTHON:-0}" != 1 ]; then
    crates/exprjit-python/run-tests.sh
fi
