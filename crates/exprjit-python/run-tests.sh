#!/usr/bin/env bash
# Builds exprjit's Python extension into a virtual environment and runs its
# pytest suite. Needs Rust, Python >= 3.9 with venv and pip, and PyPI.
#
#   crates/exprjit-python/run-tests.sh [pytest arguments]
#
# EXPRJIT_VENV chooses the environment (default: .venv beside this script,
# reused between runs); PYTHON the interpreter that creates it (python3).
#
# The extension is built by Cargo in the dev profile with the workspace's
# own feature resolution (`--workspace --lib --tests`, as `cargo test
# --workspace` resolves it), so after the Rust tests only PyO3 and this
# crate compile; maturin would resolve features for this crate alone and
# rebuild every dependency. The module and the package's Python files are
# then copied into the environment, as the wheel would install them, and
# `maturin sdist` checks the packaging metadata. The release wheel itself
# is what `pip install ./crates/exprjit-python` builds (README).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${EXPRJIT_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

echo "== python: environment $venv"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-test.txt"

echo "== python: build the extension (cargo, dev profile)"
(
    cd "$root"
    # No libpython link (the importing interpreter provides it), and the
    # environment's interpreter for PyO3's configuration.
    PYO3_BUILD_EXTENSION_MODULE=1 PYO3_PYTHON="$venv/bin/python" \
        cargo build --workspace --lib --tests
)
target="$(cd "$root" && cargo metadata --format-version 1 --no-deps |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lib=""
for candidate in "$target/debug/libexprjit_python.so" "$target/debug/libexprjit_python.dylib"; do
    if [ -f "$candidate" ]; then lib="$candidate"; fi
done
if [ -z "$lib" ]; then
    echo "run-tests.sh: no libexprjit_python in $target/debug" >&2
    exit 1
fi

echo "== python: install into the environment"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
rm -rf "$site/exprjit" "$site"/exprjit-*.dist-info "$site"/exprjit.pth "$site"/_exprjit.pth
cp -R "$here/python/exprjit" "$site/exprjit"
# Drop caches and any module a local `maturin develop` left in the sources.
rm -rf "$site/exprjit/__pycache__" "$site"/exprjit/_exprjit*.so "$site"/exprjit/_exprjit*.pyd
cp "$lib" "$site/exprjit/_exprjit.abi3.so"
sdist_dir="$(mktemp -d)"
if ! (cd "$here" && "$venv/bin/maturin" sdist --out "$sdist_dir" >"$sdist_dir/log" 2>&1); then
    cat "$sdist_dir/log" >&2
    echo "run-tests.sh: maturin sdist failed (pyproject.toml or Cargo metadata)" >&2
    exit 1
fi
rm -rf "$sdist_dir"

echo "== python: pytest"
cd "$here"
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
