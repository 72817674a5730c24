//! Counts heap allocations around `Kernel::run`: a warm call allocates
//! nothing (its pointer and stride arrays live on the stack). Alone in its
//! own test binary, with a counting global allocator; the count is per
//! thread, so the test harness's own allocations do not interfere.

use exprjit_codegen::{Kernel, Layout, Operand, Options, Output};
use exprjit_ir::DType;
use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread-local may be gone while a thread exits.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to the system allocator with the caller's
// arguments unchanged; the counter is a const-initialised thread-local
// `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: AllocLayout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn warm_run_allocates_nothing() {
    let env = [("a", DType::F64), ("b", DType::F64), ("c", DType::F64)];
    let a: Vec<f64> = (0..10).map(f64::from).collect();
    let b: Vec<f64> = (0..20).map(|i| f64::from(i) * 0.5).collect();
    let c = [2.0f64];
    let mut out = vec![0.0f64; 10];
    for expr in [
        "a * b + c",
        "sin(a) + exp(b) * c",
        "log1p(a) + tanh(b) ** 2 - c",
    ] {
        let func = exprjit_ir::compile(expr, &env).expect("compile expression");
        let layouts = [Layout::Contiguous, Layout::Strided, Layout::Broadcast];
        let k = Kernel::compile(&func, &layouts, &Options::default()).expect("compile kernel");
        let ops = [
            Operand::contiguous(&a),
            Operand::strided(&b, 1, 2),
            Operand::broadcast(&c, 0),
        ];
        // Warm: the first call may initialise lazily.
        k.run(&ops, Output::separate(&mut out)).expect("run");
        let before = allocations();
        for _ in 0..100 {
            k.run(&ops, Output::separate(&mut out)).expect("run");
        }
        let after = allocations();
        assert_eq!(after, before, "{expr}: {} allocations", after - before);
    }
}
