//! The diffusion step written by hand: the 5-point periodic stencil in the
//! same order of operations as the expression, so the bits agree. Shared by
//! the diffusion example and the benchmark.
#![allow(dead_code)]

use rayon::prelude::*;

/// The expression the hand-written step matches.
pub(crate) const EXPR: &str =
    "u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)";

/// One step over an `n` x `n` grid with `k = D*dt`, rows in parallel on
/// `pool`.
pub(crate) fn hand_step(pool: &rayon::ThreadPool, u: &[f64], next: &mut [f64], n: usize, k: f64) {
    let row = |i: usize, out: &mut [f64]| {
        let up = &u[((i + n - 1) % n) * n..][..n];
        let down = &u[((i + 1) % n) * n..][..n];
        let c = &u[i * n..][..n];
        let cell = |j: usize, left: f64, right: f64| {
            c[j] + k * ((((up[j] + down[j]) + left) + right) - 4.0 * c[j])
        };
        if n == 1 {
            out[0] = cell(0, c[0], c[0]);
            return;
        }
        out[0] = cell(0, c[n - 1], c[1]);
        for j in 1..n - 1 {
            out[j] = cell(j, c[j - 1], c[j + 1]);
        }
        out[n - 1] = cell(n - 1, c[n - 2], c[0]);
    };
    pool.install(|| {
        next.par_chunks_mut(n)
            .enumerate()
            .for_each(|(i, out)| row(i, out))
    });
}

/// Zero everywhere but a square of raised concentration in the middle.
pub(crate) fn initial(n: usize) -> Vec<f64> {
    let (lo, hi) = (n * 2 / 5, (n * 3 / 5).max(n * 2 / 5 + 1));
    let mut u = vec![0.0; n * n];
    for i in lo..hi.min(n) {
        for j in lo..hi.min(n) {
            u[i * n + j] = 1.0;
        }
    }
    u
}
