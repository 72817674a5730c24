//! The native module `exprjit._exprjit`: exprjit's evaluation, compiled
//! expressions, thread settings and cache statistics for Python, over
//! numpy arrays viewed in place.
//!
//! The package `exprjit` (under `python/`) wraps it with numexpr's API:
//! it finds the caller's frame, keeps the last expression for
//! `re_evaluate`, and defines the exception classes this module raises.

mod compiled;
mod convert;
mod errors;
mod evaluate;
mod interrupt;
mod names;
mod structure;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// Sets the number of threads exprjit uses; returns the previous number.
#[pyfunction]
fn set_num_threads(n: i64) -> PyResult<usize> {
    let n = usize::try_from(n).ok().filter(|&n| n >= 1).ok_or_else(|| {
        PyValueError::new_err(format!("the number of threads must be at least 1, not {n}"))
    })?;
    Ok(exprjit::set_num_threads(n))
}

/// The number of threads exprjit uses.
#[pyfunction]
fn get_num_threads() -> usize {
    exprjit::num_threads()
}

/// The number of cores of this machine.
#[pyfunction]
fn detect_number_of_cores() -> usize {
    exprjit::detect_number_of_cores()
}

fn accuracy_name(a: exprjit::Accuracy) -> &'static str {
    match a {
        exprjit::Accuracy::Strict => "strict",
        // Fast, and any later mode that is not bit-exact.
        _ => "fast",
    }
}

/// Sets how libm functions (`exp`, `sin`, `pow`, ...) are computed:
/// `"fast"` (vectorised, within 2 ULP; the default) or `"strict"` (the
/// platform's scalar functions, bit for bit as exprjit's reference
/// interpreter). Returns the previous setting.
#[pyfunction]
fn set_accuracy(mode: &str) -> PyResult<&'static str> {
    let a = match mode {
        "fast" => exprjit::Accuracy::Fast,
        "strict" => exprjit::Accuracy::Strict,
        _ => {
            return Err(PyValueError::new_err(format!(
                "accuracy must be 'fast' or 'strict', not {mode:?}"
            )));
        }
    };
    Ok(accuracy_name(exprjit::set_accuracy(a)))
}

/// `"fast"` or `"strict"`: see `set_accuracy`.
#[pyfunction]
fn get_accuracy() -> &'static str {
    accuracy_name(exprjit::accuracy())
}

/// The compile-cost cache's statistics as a dict (the package turns it
/// into `CacheInfo`).
#[pyfunction]
fn cache_stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let s = exprjit::cache::stats();
    let d = PyDict::new(py);
    d.set_item("hits", s.hits)?;
    d.set_item("misses", s.misses)?;
    d.set_item("evictions", s.evictions)?;
    d.set_item("capacity", s.capacity)?;
    d.set_item("entries", s.entries)?;
    d.set_item("compile_time", s.total_compile_time.as_secs_f64())?;
    d.set_item("run_time", s.total_run_time.as_secs_f64())?;
    d.set_item("multipass_runs", s.multipass_runs)?;
    let kernels = PyList::empty(py);
    for k in &s.kernels {
        let kd = PyDict::new(py);
        kd.set_item("expr", &k.expr)?;
        let params: Vec<&str> = k.params.iter().map(|d| d.numpy_name()).collect();
        kd.set_item("params", params)?;
        kd.set_item("layouts", &k.layouts)?;
        kd.set_item("out", k.out.numpy_name())?;
        kd.set_item("compile_time", k.compile_time.as_secs_f64())?;
        kd.set_item("code_size", k.code_size)?;
        kd.set_item("runs", k.runs)?;
        kernels.append(kd)?;
    }
    d.set_item("kernels", kernels)?;
    Ok(d)
}

/// Empties the compile-cost cache and zeroes its statistics.
#[pyfunction]
fn cache_clear() {
    exprjit::cache::clear();
}

/// Sets how many kernels the cache keeps (at least 1).
#[pyfunction]
fn set_cache_size(n: usize) {
    exprjit::cache::set_capacity(n);
}

#[pymodule]
#[pyo3(name = "_exprjit")]
fn exprjit_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(evaluate::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate::validate, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate::expression_names, m)?)?;
    m.add_function(wrap_pyfunction!(structure::structure, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(detect_number_of_cores, m)?)?;
    m.add_function(wrap_pyfunction!(set_accuracy, m)?)?;
    m.add_function(wrap_pyfunction!(get_accuracy, m)?)?;
    m.add_function(wrap_pyfunction!(cache_stats, m)?)?;
    m.add_function(wrap_pyfunction!(cache_clear, m)?)?;
    m.add_function(wrap_pyfunction!(set_cache_size, m)?)?;
    m.add_function(wrap_pyfunction!(interrupt::before_fork, m)?)?;
    m.add_class::<compiled::NumExpr>()?;
    Ok(())
}
