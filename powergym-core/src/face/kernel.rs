//! The dot-product kernel behind every face comparison — the one module of the crate
//! allowed `unsafe`, for SIMD intrinsics.
//!
//! A plain iterator sum runs several times slower than memory bandwidth allows: it
//! carries one dependency chain through 512 additions. The portable kernel keeps eight
//! independent accumulators so the compiler vectorises it; on x86-64 with AVX2 and FMA
//! (detected at run time, so one binary serves every CPU) the explicit kernel keeps four
//! 8-wide accumulators and fuses each multiply-add.
#![allow(unsafe_code)]

/// `Σ a[i]·b[i]` over the common length of the two slices.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above, which is all
            // `dot_avx2_fma` requires of its caller.
            return unsafe { dot_avx2_fma(a, b) };
        }
    }
    dot_portable(a, b)
}

/// The portable kernel: eight independent accumulators.
pub(crate) fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let mut chunks_a = a.chunks_exact(8);
    let mut chunks_b = b.chunks_exact(8);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for j in 0..8 {
            acc[j] = ca[j].mul_add(cb[j], acc[j]);
        }
    }
    let tail: f32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn dot_avx2_fma(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::{
        __m256, _mm_add_ps, _mm_cvtss_f32, _mm_hadd_ps, _mm256_add_ps, _mm256_castps256_ps128,
        _mm256_extractf128_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setzero_ps,
    };
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let load = |p: *const f32, i: usize| -> __m256 {
        // SAFETY: every call below passes an offset `i` with `i + 8 <= n`, so the
        // unaligned 8-float load stays inside both slices.
        unsafe { _mm256_loadu_ps(p.add(i)) }
    };
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (k, slot) in acc.iter_mut().enumerate() {
            let off = i + 8 * k;
            *slot = _mm256_fmadd_ps(load(pa, off), load(pb, off), *slot);
        }
        i += 32;
    }
    while i + 8 <= n {
        acc[0] = _mm256_fmadd_ps(load(pa, i), load(pb, i), acc[0]);
        i += 8;
    }
    let sum8 = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let sum4 = _mm_add_ps(_mm256_castps256_ps128(sum8), _mm256_extractf128_ps(sum8, 1));
    let sum2 = _mm_hadd_ps(sum4, sum4);
    let mut total = _mm_cvtss_f32(_mm_hadd_ps(sum2, sum2));
    while i < n {
        total += a[i] * b[i];
        i += 1;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum()
    }

    #[test]
    fn small_and_odd_lengths() {
        for n in [0, 1, 7, 8, 9, 31, 32, 33, 512, 515] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let want = naive(&a, &b);
            assert!((f64::from(dot(&a, &b)) - want).abs() < 1e-3, "n={n}");
            assert!(
                (f64::from(dot_portable(&a, &b)) - want).abs() < 1e-3,
                "n={n}"
            );
        }
    }

    proptest! {
        #[test]
        fn simd_agrees_with_exact_arithmetic(v in proptest::collection::vec((-1.0f32..1.0, -1.0f32..1.0), 0..600)) {
            let (a, b): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            let want = naive(&a, &b);
            prop_assert!((f64::from(dot(&a, &b)) - want).abs() < 1e-3);
            prop_assert!((f64::from(dot_portable(&a, &b)) - want).abs() < 1e-3);
        }
    }
}
