//! Turns the operator table's Rust scalar functions into symbols the JIT can
//! link against: `extern "C"` helpers for the semantics functions, and
//! trampolines through which generated code calls the table's `libm`
//! function pointers.
//!
//! The table gives libm functions as Rust-ABI `fn` pointers. Generated code
//! speaks the C ABI, so it never calls them directly: it passes the
//! pointer (a symbol whose address is the table's function) to an
//! `extern "C"` trampoline here, which calls it with the Rust ABI. The
//! kernel thus calls exactly the function the reference interpreter calls:
//! the results are the same bits (`Accuracy::Strict`; `Accuracy::Fast`
//! replaces the call per lane with the inline routines of `vmath`, which
//! call out only for `sin`/`cos`/`tan` of huge arguments, to
//! [`REDUCE_LANES`]).

use exprjit_ir::ops::Libm;
use exprjit_ir::semantics as sem;
use exprjit_ir::{DType, Op};
use std::collections::HashMap;
use std::sync::OnceLock;

// Helpers for the exact ops whose scalar semantics are more than a few
// instructions: calling the definitions makes them equal by construction.
extern "C" fn floordiv_f32(a: f32, b: f32) -> f32 {
    sem::float_floor_div(a, b)
}
extern "C" fn floordiv_f64(a: f64, b: f64) -> f64 {
    sem::float_floor_div(a, b)
}
extern "C" fn mod_f32(a: f32, b: f32) -> f32 {
    sem::float_mod(a, b)
}
extern "C" fn mod_f64(a: f64, b: f64) -> f64 {
    sem::float_mod(a, b)
}
extern "C" fn fmod_f32(a: f32, b: f32) -> f32 {
    a % b
}
extern "C" fn fmod_f64(a: f64, b: f64) -> f64 {
    a % b
}
extern "C" fn nextafter_f32(a: f32, b: f32) -> f32 {
    sem::nextafter_f32(a, b)
}
extern "C" fn nextafter_f64(a: f64, b: f64) -> f64 {
    sem::nextafter_f64(a, b)
}
extern "C" fn pow_i32(a: i32, b: i32) -> i32 {
    sem::pow_i32(a, b)
}
extern "C" fn pow_i64(a: i64, b: i64) -> i64 {
    sem::pow_i64(a, b)
}

// Trampolines. `f` is a Rust-ABI function pointer that generated code only
// passes along (a `fn` pointer is passed as a pointer-sized integer); it is
// called here, on the Rust side, with the Rust ABI. The lint warns about
// foreign callers that would call `f` themselves, which ours never do.
#[allow(improper_ctypes_definitions)]
extern "C" fn call1_f32(f: fn(f32) -> f32, x: f32) -> f32 {
    f(x)
}
#[allow(improper_ctypes_definitions)]
extern "C" fn call1_f64(f: fn(f64) -> f64, x: f64) -> f64 {
    f(x)
}
#[allow(improper_ctypes_definitions)]
extern "C" fn call2_f32(f: fn(f32, f32) -> f32, x: f32, y: f32) -> f32 {
    f(x, y)
}
#[allow(improper_ctypes_definitions)]
extern "C" fn call2_f64(f: fn(f64, f64) -> f64, x: f64, y: f64) -> f64 {
    f(x, y)
}

/// A helper generated code calls with the C ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Helper {
    FloorDiv,
    Mod,
    Fmod,
    Nextafter,
    Pow,
    /// `call1(f, x)`: calls a unary libm function.
    Call1,
    /// `call2(f, x, y)`: calls a binary libm function.
    Call2,
}

impl Helper {
    /// The symbol name of this helper for operands of dtype `dt`.
    pub(crate) fn symbol(self, dt: DType) -> String {
        let name = match self {
            Helper::FloorDiv => "floordiv",
            Helper::Mod => "mod",
            Helper::Fmod => "fmod",
            Helper::Nextafter => "nextafter",
            Helper::Pow => "pow",
            Helper::Call1 => "call1",
            Helper::Call2 => "call2",
        };
        format!("exprjit_{name}_{}", dt.short_name())
    }
}

/// The symbol of `vmath::reduce::exprjit_reduce_lanes` (Payne-Hanek's
/// reduction for huge `sin`/`cos`/`tan` arguments, called through a
/// trampoline the kernel defines).
pub(crate) const REDUCE_LANES: &str = "exprjit_reduce_lanes";

/// The symbol whose address is the table's libm function of `op` for `dt`.
pub(crate) fn libm_symbol(op: Op, dt: DType) -> String {
    format!("exprjit_libm_{}_{}", op.name(), dt.short_name())
}

struct Table {
    by_name: HashMap<String, usize>,
    by_addr: HashMap<usize, String>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut add = |name: String, addr: usize| {
            by_name.insert(name, addr);
        };
        use DType::{F32, F64, I32, I64};
        add(
            Helper::FloorDiv.symbol(F32),
            floordiv_f32 as *const () as usize,
        );
        add(
            Helper::FloorDiv.symbol(F64),
            floordiv_f64 as *const () as usize,
        );
        add(Helper::Mod.symbol(F32), mod_f32 as *const () as usize);
        add(Helper::Mod.symbol(F64), mod_f64 as *const () as usize);
        add(Helper::Fmod.symbol(F32), fmod_f32 as *const () as usize);
        add(Helper::Fmod.symbol(F64), fmod_f64 as *const () as usize);
        add(
            Helper::Nextafter.symbol(F32),
            nextafter_f32 as *const () as usize,
        );
        add(
            Helper::Nextafter.symbol(F64),
            nextafter_f64 as *const () as usize,
        );
        add(Helper::Pow.symbol(I32), pow_i32 as *const () as usize);
        add(Helper::Pow.symbol(I64), pow_i64 as *const () as usize);
        add(Helper::Call1.symbol(F32), call1_f32 as *const () as usize);
        add(Helper::Call1.symbol(F64), call1_f64 as *const () as usize);
        add(Helper::Call2.symbol(F32), call2_f32 as *const () as usize);
        add(Helper::Call2.symbol(F64), call2_f64 as *const () as usize);
        add(
            REDUCE_LANES.to_owned(),
            crate::vmath::reduce::exprjit_reduce_lanes as *const () as usize,
        );
        for op in Op::ALL {
            match op.info().libm {
                Some(Libm::Unary { f32, f64 }) => {
                    add(libm_symbol(op, F32), f32 as *const () as usize);
                    add(libm_symbol(op, F64), f64 as *const () as usize);
                }
                Some(Libm::Binary { f32, f64 }) => {
                    add(libm_symbol(op, F32), f32 as *const () as usize);
                    add(libm_symbol(op, F64), f64 as *const () as usize);
                }
                None => {}
            }
        }
        let by_addr = by_name.iter().map(|(n, a)| (*a, n.clone())).collect();
        Table { by_name, by_addr }
    })
}

/// The address of one of our symbols, for the JIT linker.
pub(crate) fn lookup(name: &str) -> Option<*const u8> {
    table().by_name.get(name).map(|a| *a as *const u8)
}

/// The name of the symbol at `addr`, for annotating disassembly.
pub(crate) fn name_at(addr: usize) -> Option<&'static str> {
    table().by_addr.get(&addr).map(String::as_str)
}
