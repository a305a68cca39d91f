//! The dot-product kernels behind every face comparison — the one module of the crate
//! allowed `unsafe`, for SIMD intrinsics.
//!
//! A plain iterator sum runs several times slower than memory bandwidth allows: it
//! carries one dependency chain through 512 additions. The portable kernels keep eight
//! independent accumulators so the compiler vectorises them; on x86-64 the explicit
//! kernels (AVX2 + FMA for `f32`, F16C + FMA for `f16` rows, AVX2 for `i8` rows) are
//! selected at run time, so one binary serves every CPU.
//!
//! Three row formats, one probe each:
//! - `f32` rows · `f32` probe: the exact scan and the re-rank;
//! - `f16` rows · `f32` probe: half the bytes, each row widened on the fly;
//! - `i8` rows · `i8` probe: a quarter of the bytes, integer products summed in `i32`,
//!   so the result is exact and the only error is the quantisation itself. Values stay
//!   in `-127..=127`, which lets the AVX2 kernel use the byte multiply-add
//!   (`vpmaddubsw`) without saturating.
//!
//! The `dots_*` forms score a block of rows against one probe with a single dispatch,
//! so the per-row kernel is inlined into the loop.
#![allow(unsafe_code)]

use half::f16;

/// `Σ a[i]·b[i]` over the common length of the two slices.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above, which is all
            // `dot_avx2_fma` requires of its caller.
            return unsafe { dot_avx2_fma(a, b) };
        }
    }
    dot_portable(a, b)
}

/// `Σ a[i]·b[i]` for an `f16` row and an `f32` probe, accumulated in `f32`. (The
/// gallery scans blocks with [`dots_f16`]; the one-row form is the tests' reference.)
#[cfg(test)]
pub(crate) fn dot_f16(a: &[f16], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if has_f16c_fma() {
            // SAFETY: the CPU supports AVX, F16C and FMA, checked just above, which is
            // all `dot_f16_f16c` requires of its caller.
            return unsafe { dot_f16_f16c(a, b) };
        }
    }
    dot_f16_portable(a, b)
}

/// `Σ a[i]·b[i]` of two `i8` vectors with values in `-127..=127` (what symmetric
/// quantisation produces; the AVX2 kernel relies on it), exact in `i32` for lengths up
/// to 131 072. (The gallery scans blocks with [`dots_i8`];
/// the one-row form is the tests' reference.)
#[cfg(test)]
pub(crate) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above, which is all
            // `dot_i8_avx2` requires of its caller.
            return unsafe { dot_i8_avx2(a, b) };
        }
    }
    dot_i8_portable(a, b)
}

/// Scores each `probe.len()`-wide row of `rows` against `probe` into `out`
/// (`rows.len() == out.len() · probe.len()`); same arithmetic as [`dot`], row by row.
pub(crate) fn dots(rows: &[f32], probe: &[f32], out: &mut [f32]) {
    check_block(rows.len(), probe.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { dots_avx2_fma(rows, probe, out) };
        }
    }
    for (row, o) in rows.chunks_exact(probe.len()).zip(out) {
        *o = dot_portable(row, probe);
    }
}

/// [`dots`] for `f16` rows; same arithmetic as [`dot_f16`], row by row.
pub(crate) fn dots_f16(rows: &[f16], probe: &[f32], out: &mut [f32]) {
    check_block(rows.len(), probe.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if has_f16c_fma() {
            // SAFETY: the CPU supports AVX, F16C and FMA, checked just above.
            return unsafe { dots_f16_f16c(rows, probe, out) };
        }
    }
    for (row, o) in rows.chunks_exact(probe.len()).zip(out) {
        *o = dot_f16_portable(row, probe);
    }
}

/// [`dots`] for `i8` rows and probe, values in `-127..=127`; exact, like [`dot_i8`].
pub(crate) fn dots_i8(rows: &[i8], probe: &[i8], out: &mut [i32]) {
    check_block(rows.len(), probe.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { dots_i8_avx2(rows, probe, out) };
        }
    }
    for (row, o) in rows.chunks_exact(probe.len()).zip(out) {
        *o = dot_i8_portable(row, probe);
    }
}

fn check_block(rows: usize, width: usize, out: usize) {
    assert!(
        width > 0 && rows == out * width,
        "a block of {out} rows of width {width} needs {} values, got {rows}",
        out * width
    );
}

#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
fn has_f16c_fma() -> bool {
    std::is_x86_feature_detected!("avx")
        && std::is_x86_feature_detected!("f16c")
        && std::is_x86_feature_detected!("fma")
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

/// The portable `f16` kernel: each value widened exactly to `f32`, eight accumulators.
pub(crate) fn dot_f16_portable(a: &[f16], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let mut chunks_a = a.chunks_exact(8);
    let mut chunks_b = b.chunks_exact(8);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for j in 0..8 {
            acc[j] = ca[j].to_f32().mul_add(cb[j], acc[j]);
        }
    }
    let tail: f32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| x.to_f32() * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// The portable `i8` kernel: integer products, so any summation order gives the same
/// result; written over chunks of 16 so the compiler vectorises it.
pub(crate) fn dot_i8_portable(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0i32; 16];
    let mut chunks_a = a.chunks_exact(16);
    let mut chunks_b = b.chunks_exact(16);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for j in 0..16 {
            acc[j] += i32::from(ca[j]) * i32::from(cb[j]);
        }
    }
    let tail: i32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    acc.iter().sum::<i32>() + tail
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn dots_avx2_fma(rows: &[f32], probe: &[f32], out: &mut [f32]) {
    for (row, o) in rows.chunks_exact(probe.len()).zip(out) {
        *o = dot_avx2_fma(row, probe);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,f16c,fma")]
fn dots_f16_f16c(rows: &[f16], probe: &[f32], out: &mut [f32]) {
    for (row, o) in rows.chunks_exact(probe.len()).zip(out) {
        *o = dot_f16_f16c(row, probe);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dots_i8_avx2(rows: &[i8], probe: &[i8], out: &mut [i32]) {
    for (row, o) in rows.chunks_exact(probe.len()).zip(out) {
        *o = dot_i8_avx2(row, probe);
    }
}

/// The eight lanes of `v` summed.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[inline]
fn hsum_ps(v: std::arch::x86_64::__m256) -> f32 {
    use std::arch::x86_64::{
        _mm_add_ps, _mm_cvtss_f32, _mm_hadd_ps, _mm256_castps256_ps128, _mm256_extractf128_ps,
    };
    let sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let sum2 = _mm_hadd_ps(sum4, sum4);
    _mm_cvtss_f32(_mm_hadd_ps(sum2, sum2))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn dot_avx2_fma(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setzero_ps,
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
    let mut total = hsum_ps(sum8);
    while i < n {
        total += a[i] * b[i];
        i += 1;
    }
    total
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,f16c,fma")]
#[inline]
fn dot_f16_f16c(a: &[f16], b: &[f32]) -> f32 {
    use std::arch::x86_64::{
        __m128i, __m256, _mm_loadu_si128, _mm256_add_ps, _mm256_cvtph_ps, _mm256_fmadd_ps,
        _mm256_loadu_ps, _mm256_setzero_ps,
    };
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let load_half = |i: usize| -> __m256 {
        // SAFETY: every call below passes `i + 8 <= n`, so the unaligned 16-byte load
        // (eight `f16`, which is `repr(transparent)` over `u16`) stays inside `a`.
        _mm256_cvtph_ps(unsafe { _mm_loadu_si128(pa.add(i).cast::<__m128i>()) })
    };
    let load = |i: usize| -> __m256 {
        // SAFETY: every call below passes `i + 8 <= n`, so the unaligned 8-float load
        // stays inside `b`.
        unsafe { _mm256_loadu_ps(pb.add(i)) }
    };
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (k, slot) in acc.iter_mut().enumerate() {
            let off = i + 8 * k;
            *slot = _mm256_fmadd_ps(load_half(off), load(off), *slot);
        }
        i += 32;
    }
    while i + 8 <= n {
        acc[0] = _mm256_fmadd_ps(load_half(i), load(i), acc[0]);
        i += 8;
    }
    let sum8 = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut total = hsum_ps(sum8);
    while i < n {
        total += a[i].to_f32() * b[i];
        i += 1;
    }
    total
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn dot_i8_avx2(a: &[i8], b: &[i8]) -> i32 {
    use std::arch::x86_64::{
        __m256i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_hadd_epi32, _mm256_abs_epi8,
        _mm256_add_epi32, _mm256_castsi256_si128, _mm256_extracti128_si256, _mm256_loadu_si256,
        _mm256_madd_epi16, _mm256_maddubs_epi16, _mm256_set1_epi16, _mm256_setzero_si256,
        _mm256_sign_epi8,
    };
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let load = |p: *const i8, i: usize| -> __m256i {
        // SAFETY: every call below passes `i + 32 <= n`, so the unaligned 32-byte load
        // stays inside both slices.
        unsafe { _mm256_loadu_si256(p.add(i).cast::<__m256i>()) }
    };
    // `maddubs` multiplies unsigned by signed bytes, so the sign of `a` moves onto `b`:
    // |a|·(sign(a)·b) = a·b. Adjacent products are added into i16 lanes, at most
    // 2 · 127² = 32 258 in magnitude for values in -127..=127 (no saturation); `madd`
    // with ones widens the pairs into i32 lanes.
    let ones = _mm256_set1_epi16(1);
    let step = |acc: __m256i, va: __m256i, vb: __m256i| -> __m256i {
        let pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(va), _mm256_sign_epi8(vb, va));
        _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones))
    };
    let mut acc = [_mm256_setzero_si256(); 2];
    let mut i = 0;
    while i + 64 <= n {
        acc[0] = step(acc[0], load(pa, i), load(pb, i));
        acc[1] = step(acc[1], load(pa, i + 32), load(pb, i + 32));
        i += 64;
    }
    while i + 32 <= n {
        acc[0] = step(acc[0], load(pa, i), load(pb, i));
        i += 32;
    }
    let sum8 = _mm256_add_epi32(acc[0], acc[1]);
    let sum4 = _mm_add_epi32(
        _mm256_castsi256_si128(sum8),
        _mm256_extracti128_si256(sum8, 1),
    );
    let sum2 = _mm_hadd_epi32(sum4, sum4);
    let mut total = _mm_cvtsi128_si32(_mm_hadd_epi32(sum2, sum2));
    while i < n {
        total += i32::from(a[i]) * i32::from(b[i]);
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

    fn naive_i8(a: &[i8], b: &[i8]) -> i64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| i64::from(*x) * i64::from(*y))
            .sum()
    }

    fn halves(a: &[f32]) -> Vec<f16> {
        a.iter().map(|&x| f16::from_f32(x)).collect()
    }

    /// The exact value of the `f16` product: the `f16` values are widened exactly.
    fn naive_f16(a: &[f16], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(x.to_f32()) * f64::from(*y))
            .sum()
    }

    #[test]
    fn small_and_odd_lengths() {
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 512, 515] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let want = naive(&a, &b);
            assert!((f64::from(dot(&a, &b)) - want).abs() < 1e-3, "n={n}");
            assert!(
                (f64::from(dot_portable(&a, &b)) - want).abs() < 1e-3,
                "n={n}"
            );
            let h = halves(&a);
            let want = naive_f16(&h, &b);
            assert!((f64::from(dot_f16(&h, &b)) - want).abs() < 1e-3, "n={n}");
            assert!(
                (f64::from(dot_f16_portable(&h, &b)) - want).abs() < 1e-3,
                "n={n}"
            );
            let qa: Vec<i8> = (0..n).map(|i| (i * 37 % 255) as i8 / 2).collect();
            let qb: Vec<i8> = (0..n).map(|i| (i * 11 % 255 - 127) as i8).collect();
            let want = naive_i8(&qa, &qb);
            assert_eq!(i64::from(dot_i8(&qa, &qb)), want, "n={n}");
            assert_eq!(i64::from(dot_i8_portable(&qa, &qb)), want, "n={n}");
        }
    }

    #[test]
    fn extreme_int8_values_do_not_saturate() {
        let (lo, hi) = (vec![-127i8; 515], vec![127i8; 515]);
        for (a, b, want) in [(&lo, &lo, 1), (&lo, &hi, -1), (&hi, &hi, 1)] {
            assert_eq!(dot_i8(a, b), want * 515 * 127 * 127);
            assert_eq!(dot_i8_portable(a, b), want * 515 * 127 * 127);
        }
    }

    #[test]
    fn block_forms_equal_the_row_forms_bit_for_bit() {
        let width = 40;
        let rows: Vec<f32> = (0..width * 5).map(|i| (i as f32 * 0.7).sin()).collect();
        let probe: Vec<f32> = (0..width).map(|i| (i as f32 * 0.3).cos()).collect();
        let mut out = [0.0f32; 5];
        dots(&rows, &probe, &mut out);
        for (row, o) in rows.chunks_exact(width).zip(out) {
            assert_eq!(o.to_bits(), dot(row, &probe).to_bits());
        }
        let h = halves(&rows);
        dots_f16(&h, &probe, &mut out);
        for (row, o) in h.chunks_exact(width).zip(out) {
            assert_eq!(o.to_bits(), dot_f16(row, &probe).to_bits());
        }
        let q: Vec<i8> = (0..width * 5)
            .map(|i| (i as i32 * 7 % 255 - 127) as i8)
            .collect();
        let mut out = [0i32; 5];
        dots_i8(&q, &q[..width], &mut out);
        for (row, o) in q.chunks_exact(width).zip(out) {
            assert_eq!(o, dot_i8(row, &q[..width]));
        }
    }

    #[test]
    #[should_panic(expected = "a block of 2 rows")]
    fn a_ragged_block_is_a_bug() {
        dots(&[0.0; 7], &[0.0; 4], &mut [0.0; 2]);
    }

    proptest! {
        #[test]
        fn simd_agrees_with_exact_arithmetic(v in proptest::collection::vec((-1.0f32..1.0, -1.0f32..1.0), 0..600)) {
            let (a, b): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            let want = naive(&a, &b);
            prop_assert!((f64::from(dot(&a, &b)) - want).abs() < 1e-3);
            prop_assert!((f64::from(dot_portable(&a, &b)) - want).abs() < 1e-3);
        }

        #[test]
        fn f16_kernels_agree_with_exact_arithmetic(v in proptest::collection::vec((-1.0f32..1.0, -1.0f32..1.0), 0..600)) {
            let (a, b): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            let h = halves(&a);
            let want = naive_f16(&h, &b);
            prop_assert!((f64::from(dot_f16(&h, &b)) - want).abs() < 1e-3);
            prop_assert!((f64::from(dot_f16_portable(&h, &b)) - want).abs() < 1e-3);
        }

        #[test]
        fn int8_kernels_are_exact(v in proptest::collection::vec((-127i8..=127, -127i8..=127), 0..700)) {
            let (a, b): (Vec<i8>, Vec<i8>) = v.into_iter().unzip();
            let want = naive_i8(&a, &b);
            prop_assert_eq!(i64::from(dot_i8(&a, &b)), want);
            prop_assert_eq!(i64::from(dot_i8_portable(&a, &b)), want);
        }
    }
}
