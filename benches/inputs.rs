//! The benchmarks' input arrays, shared by `fused_vs_multipass` and
//! `cache_study` so that both measure the same values.
#![allow(dead_code)]

/// Uniform values in (0, 1) from a fixed-seed xorshift generator.
pub(crate) fn uniform(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        })
        .collect()
}
