//! The dot-product kernels behind every face comparison — the one module of the crate
//! allowed `unsafe`, for SIMD intrinsics.
//!
//! A plain iterator sum runs several times slower than memory bandwidth allows: it
//! carries one dependency chain through 512 additions. The portable kernels keep eight
//! independent accumulators so the compiler vectorises them; on x86-64 the explicit
//! kernels (AVX2 + FMA for `f32`, F16C + FMA for `f16` rows, AVX2 for `i8` rows,
//! AVX-512 VNNI for 4-bit rows and the many-probe screen) are selected at run time, so
//! one binary serves every CPU.
//!
//! Four row formats, one probe each:
//! - `f32` rows · `f32` probe: the exact scan and the re-rank;
//! - `f16` rows · `f32` probe: half the bytes, each row widened on the fly;
//! - `i8` rows · `i8` probe: a quarter of the bytes, integer products summed in `i32`,
//!   so the result is exact and the only error is the quantisation itself. Values stay
//!   in `-127..=127`, which lets the AVX2 kernel use the byte multiply-add
//!   (`vpmaddubsw`) without saturating;
//! - 4-bit rows · `i8` probe: an eighth of the bytes, two values a byte
//!   ([`pack_i4`]), exact in `i32` like `i8`.
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
/// the one-row form is the tests' reference and the screen's fallback.)
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

/// Bytes of one int4 row: 512 values, two to a byte.
pub(crate) const I4_ROW: usize = 256;

/// How many 4-bit rows ahead of the one being scored the AVX-512 kernel asks the CPU to
/// fetch: 8 KiB, about as far as memory's latency times its bandwidth per core. 4, 16,
/// 32 and 64 were tried: 16–64 alike, 4 half the gain.
#[cfg(target_arch = "x86_64")]
const PREFETCH_ROWS: usize = 32;

/// Packs 512 codes in `-7..=7` into an int4 row of [`I4_ROW`] bytes: in each quarter
/// `k` of 128 values, byte `b` holds value `128k + b` in its low nibble and value
/// `128k + 64 + b` in its high one, each biased by 8 (so `1..=15`). One 64-byte load
/// then gives 128 values as two vectors of unsigned bytes, by one mask and one shift.
pub(crate) fn pack_i4(codes: &[i8], out: &mut [u8]) {
    assert!(codes.len() == 2 * I4_ROW && out.len() == I4_ROW);
    debug_assert!(codes.iter().all(|c| (-7..=7).contains(c)));
    for (k, quarter) in out.chunks_exact_mut(64).enumerate() {
        for (b, byte) in quarter.iter_mut().enumerate() {
            let lo = (codes[128 * k + b] + 8) as u8;
            let hi = (codes[128 * k + 64 + b] + 8) as u8;
            *byte = lo | (hi << 4);
        }
    }
}

/// `Σ code_j · probe_j` for each int4 row of `rows` (see [`pack_i4`]) against a 512-value
/// `i8` probe, into `out`; exact in `i32`.
pub(crate) fn dots_i4(rows: &[u8], probe: &[i8], out: &mut [i32]) {
    assert!(probe.len() == 2 * I4_ROW);
    check_block(rows.len(), I4_ROW, out.len());
    // The nibbles carry `code + 8`: the bias adds `8 · Σ probe` to every row's sum.
    let bias = 8 * probe.iter().map(|&p| i32::from(p)).sum::<i32>();
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512_vnni() {
            // SAFETY: the CPU supports AVX-512 F, BW and VNNI, checked just above.
            unsafe { dots_i4_avx512(rows, probe, out) };
            for o in out.iter_mut() {
                *o -= bias;
            }
            return;
        }
    }
    for (row, o) in rows.chunks_exact(I4_ROW).zip(out) {
        *o = dot_i4_biased_portable(row, probe) - bias;
    }
}

/// `Σ nibble_j · probe_j` of one packed row (the bias left in): 64 independent
/// accumulators, one per byte position, so the compiler vectorises the loop.
fn dot_i4_biased_portable(row: &[u8], probe: &[i8]) -> i32 {
    let mut acc = [0i32; 64];
    for (k, quarter) in row.chunks_exact(64).enumerate() {
        let (lo, hi) = probe[128 * k..128 * (k + 1)].split_at(64);
        for b in 0..64 {
            let byte = quarter[b];
            acc[b] +=
                i32::from(byte & 0x0F) * i32::from(lo[b]) + i32::from(byte >> 4) * i32::from(hi[b]);
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn dots_i4_avx512(rows: &[u8], probe: &[i8], out: &mut [i32]) {
    use std::arch::x86_64::{
        __m512i, _MM_HINT_T0, _mm_prefetch, _mm512_add_epi32, _mm512_and_si512,
        _mm512_dpbusd_epi32, _mm512_loadu_si512, _mm512_reduce_add_epi32, _mm512_set1_epi8,
        _mm512_setzero_si512, _mm512_srli_epi16,
    };
    let load = |bytes: &[u8]| -> __m512i {
        assert!(bytes.len() == 64);
        // SAFETY: the slice holds the 64 bytes the unaligned load reads, checked above.
        unsafe { _mm512_loadu_si512(bytes.as_ptr().cast::<__m512i>()) }
    };
    // SAFETY: `i8` and `u8` have the same size and alignment, and every bit pattern is
    // valid for both; the bytes are reinterpreted, not converted (the kernel's loads
    // treat them as signed again).
    let probe: &[u8] =
        unsafe { std::slice::from_raw_parts(probe.as_ptr().cast::<u8>(), probe.len()) };
    // The probe's values for each quarter's low and high nibbles.
    let mut p = [_mm512_setzero_si512(); 8];
    for (k, pair) in p.chunks_exact_mut(2).enumerate() {
        pair[0] = load(&probe[128 * k..128 * k + 64]);
        pair[1] = load(&probe[128 * k + 64..128 * k + 128]);
    }
    let mask = _mm512_set1_epi8(0x0F);
    for (i, (row, o)) in rows.chunks_exact(I4_ROW).zip(out).enumerate() {
        // The scan is bound by memory, and the hardware prefetcher alone left a single
        // thread at about half the machine's read bandwidth (100k rows on one thread:
        // p50 1.18–1.78 ms without this, 0.97–0.98 ms with it; benches/README.md). The
        // address may lie past the slice (the next block's rows, or memory that is not
        // ours): a prefetch is a hint that reads nothing and never faults, and
        // `wrapping_add` only computes the address.
        let ahead = rows.as_ptr().wrapping_add((i + PREFETCH_ROWS) * I4_ROW);
        for line in 0..I4_ROW / 64 {
            _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(64 * line).cast::<i8>());
        }
        let (mut a, mut b) = (_mm512_setzero_si512(), _mm512_setzero_si512());
        for k in 0..4 {
            let v = load(&row[64 * k..64 * k + 64]);
            let lo = _mm512_and_si512(v, mask);
            let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(v), mask);
            // Unsigned nibbles times signed probe values, four to a lane: at most
            // 15 · 127 · 4 per step, 975 360 over a row, far inside i32.
            a = _mm512_dpbusd_epi32(a, lo, p[2 * k]);
            b = _mm512_dpbusd_epi32(b, hi, p[2 * k + 1]);
        }
        *o = _mm512_reduce_add_epi32(_mm512_add_epi32(a, b));
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

/// Values of each vector that the many-probe screen ([`screen`]) scores in int8: the
/// first 320 of 512. The rest enter its bound only through their norm.
///
/// Why 320: for unit vectors whose energy is spread over the dimensions, the unscored
/// 192 can add up to `‖a_rest‖·‖b_rest‖ ≈ 0.375 ± 0.03` of similarity, so at the
/// enrolment threshold (similarity 0.6) the screen keeps a stranger only when its first
/// 320 values already score about 0.2, about one pair in a million. At 256 the headroom
/// (0.5) keeps about 3 % of strangers, whose exact scoring then costs more than the
/// screen; at 352 the screen scores 10 % more values for nothing. Measured on 10 000
/// probes against 100 000 templates: 0.52 s at 256 and 288, 0.49–0.52 s at 320, 0.57–0.63
/// s at 352 (`benches/README.md`).
pub(crate) const SCREEN_DIMS: usize = 320;

/// The screen's int8 values of one side as four-byte words (`SCREEN_DIMS / 4` a row).
const WORDS: usize = SCREEN_DIMS / 4;

/// Rows in one lane group: the sixteen `i32` lanes of one 512-bit register.
const LANES: usize = 16;

/// Probes scored per pass of the AVX-512 kernel: 12 probes × 2 lane groups are 24
/// accumulators, which with the 2 row registers fit the 32 vector registers.
const PASS: usize = 12;

/// One side of the screen: each vector's first [`SCREEN_DIMS`] int8 values and the
/// terms of its error bound.
///
/// For a unit vector `a` quantised as `q·s` (|error| ≤ s/2 a value), with `a = (a₁, a₂)`
/// split at [`SCREEN_DIMS`]: `a·b = a₁·b₁ + a₂·b₂`, `|a₂·b₂| ≤ ‖a₂‖‖b₂‖`, and
/// `|a₁·b₁ − s_a s_b q_a·q_b| ≤ e_a + e_b + e_a e_b` with `e = s·√SCREEN_DIMS / 2`. So
/// `s_a s_b q_a·q_b + e_a + e_b + e_a e_b + ‖a₂‖‖b₂‖` bounds the similarity from above,
/// and a pair whose bound is below the threshold cannot be within it.
struct ScreenSide {
    scale: Vec<f32>,
    err: Vec<f32>,
    rest: Vec<f32>,
}

impl ScreenSide {
    /// The terms of `n` vectors: `scales` from their quantisation, `rows` their `f32`
    /// values, `D` wide.
    fn new(scales: &[f32], rows: &[f32], width: usize, padded: usize) -> Self {
        let root = (SCREEN_DIMS as f32).sqrt() / 2.0;
        let mut side = Self {
            scale: vec![0.0; padded],
            err: vec![0.0; padded],
            rest: vec![0.0; padded],
        };
        for (i, (&s, row)) in scales.iter().zip(rows.chunks_exact(width)).enumerate() {
            side.scale[i] = s;
            side.err[i] = s * root;
            side.rest[i] = dot(&row[SCREEN_DIMS..], &row[SCREEN_DIMS..]).sqrt();
        }
        side
    }

    /// What the bound adds to a pair's int8 estimate, with 10⁻⁴ for the `f32`
    /// rounding of the terms themselves.
    fn slack(&self, i: usize, other: &Self, j: usize) -> f32 {
        let (ea, eb) = (self.err[i], other.err[j]);
        ea + eb + ea * eb + self.rest[i] * other.rest[j] + 1e-4
    }
}

/// The probes of a screen, prepared once for every tile of rows.
pub(crate) struct ScreenProbes {
    /// `n` (padded to a multiple of [`PASS`]) × [`WORDS`] words of four int8 values.
    words: Vec<i32>,
    /// Each probe's values summed (the AVX-512 kernel's rows are biased by 128).
    sums: Vec<i32>,
    /// The same values as bytes, probe after probe, for the fallback kernel.
    prefix: Vec<i8>,
    side: ScreenSide,
    n: usize,
}

impl ScreenProbes {
    /// `q` holds each probe's int8 values (`width` a probe), `scales` their scales and
    /// `rows` their `f32` values.
    pub(crate) fn new(q: &[i8], scales: &[f32], rows: &[f32], width: usize) -> Self {
        let n = scales.len();
        let padded = n.div_ceil(PASS) * PASS;
        let mut words = vec![0i32; padded * WORDS];
        let mut sums = vec![0i32; padded];
        let mut all = Vec::with_capacity(n * SCREEN_DIMS);
        for (p, probe) in q.chunks_exact(width).enumerate() {
            let prefix = &probe[..SCREEN_DIMS];
            all.extend_from_slice(prefix);
            for (w, b) in words[p * WORDS..(p + 1) * WORDS]
                .iter_mut()
                .zip(prefix.chunks_exact(4))
            {
                *w = i32::from_le_bytes([b[0] as u8, b[1] as u8, b[2] as u8, b[3] as u8]);
            }
            sums[p] = prefix.iter().map(|&v| i32::from(v)).sum();
        }
        Self {
            words,
            sums,
            prefix: all,
            side: ScreenSide::new(scales, rows, width, padded),
            n,
        }
    }
}

/// A tile of gallery rows, prepared for [`screen`].
pub(crate) struct ScreenRows {
    /// For the AVX-512 kernel: lane groups of 16 rows, each 4-byte column of the 16 rows
    /// together, values biased to `u8` (`+128`) as `vpdpbusd` takes them.
    packed: Vec<u8>,
    /// Otherwise the rows' first [`SCREEN_DIMS`] values, row after row.
    prefix: Vec<i8>,
    side: ScreenSide,
    n: usize,
    vnni: bool,
}

impl ScreenRows {
    /// `q` holds the rows' int8 values (`width` a row), `scales` their scales and
    /// `rows` their `f32` values.
    pub(crate) fn new(q: &[i8], scales: &[f32], rows: &[f32], width: usize) -> Self {
        Self::with_kernel(q, scales, rows, width, has_avx512_vnni())
    }

    /// [`ScreenRows::new`] for the AVX-512 kernel (`vnni`, which the caller has checked
    /// the CPU has) or the portable one.
    fn with_kernel(q: &[i8], scales: &[f32], rows: &[f32], width: usize, vnni: bool) -> Self {
        let n = scales.len();
        // Whole pairs of lane groups for the kernel; padding rows are never reported.
        let padded = n.div_ceil(2 * LANES) * 2 * LANES;
        let mut packed = Vec::new();
        let mut prefix = Vec::new();
        if vnni {
            packed = vec![0u8; padded * SCREEN_DIMS];
            for (r, row) in q.chunks_exact(width).enumerate() {
                let (group, lane) = (r / LANES, r % LANES);
                for w in 0..WORDS {
                    let at = ((group * WORDS + w) * LANES + lane) * 4;
                    for b in 0..4 {
                        packed[at + b] = (row[w * 4 + b] as u8) ^ 0x80;
                    }
                }
            }
        } else {
            prefix.reserve(n * SCREEN_DIMS);
            for row in q.chunks_exact(width) {
                prefix.extend_from_slice(&row[..SCREEN_DIMS]);
            }
        }
        Self {
            packed,
            prefix,
            side: ScreenSide::new(scales, rows, width, padded),
            n,
            vnni,
        }
    }
}

/// Every `(probe, row)` pair of the first `probe_end` probes × `rows` whose similarity
/// may reach `min_similarity`, appended to `found` (a few later probes may be screened
/// too, up to a whole pass of the kernel). Never misses a pair within it (see
/// [`ScreenSide`] for the bound); a pair it keeps still has to be scored exactly.
pub(crate) fn screen(
    rows: &ScreenRows,
    probes: &ScreenProbes,
    probe_end: usize,
    min_similarity: f32,
    found: &mut Vec<(usize, usize)>,
) {
    // `vnni` is never set off x86-64.
    if rows.vnni {
        // SAFETY: `rows.vnni` was set only where the CPU has AVX-512 F, BW and VNNI, and
        // the packed layout and padding are the kernel's own (`ScreenRows::new`).
        #[cfg(target_arch = "x86_64")]
        return unsafe { screen_avx512(rows, probes, probe_end, min_similarity, found) };
    }
    for (p, probe) in probes
        .prefix
        .chunks_exact(SCREEN_DIMS)
        .take(probe_end)
        .enumerate()
    {
        for (r, row) in rows.prefix.chunks_exact(SCREEN_DIMS).enumerate() {
            let q = dot_i8(row, probe);
            let estimate = q as f32 * rows.side.scale[r] * probes.side.scale[p];
            if estimate + rows.side.slack(r, &probes.side, p) >= min_similarity {
                found.push((p, r));
            }
        }
    }
}

/// Tests set this to run the portable kernels of the screen and of int4 rows on a CPU
/// that has AVX-512 VNNI. Both kernels of each must give the same answers (exact sums
/// for int4, every pair within the threshold for the screen), so a test that flips it
/// while another runs cannot change that test's answer.
#[cfg(test)]
pub(crate) static PORTABLE_SCREEN: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

fn has_avx512_vnni() -> bool {
    #[cfg(test)]
    if PORTABLE_SCREEN.load(std::sync::atomic::Ordering::SeqCst) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn screen_avx512(
    rows: &ScreenRows,
    probes: &ScreenProbes,
    probe_end: usize,
    min_similarity: f32,
    found: &mut Vec<(usize, usize)>,
) {
    use std::arch::x86_64::{
        __m512i, _CMP_GE_OQ, _mm512_add_ps, _mm512_cmp_ps_mask, _mm512_cvtepi32_ps,
        _mm512_dpbusd_epi32, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_loadu_si512, _mm512_mul_ps,
        _mm512_set1_epi32, _mm512_set1_ps, _mm512_setzero_si512, _mm512_sub_epi32,
    };
    let groups = rows.side.scale.len() / LANES;
    let group_bytes = WORDS * LANES * 4;
    assert!(rows.packed.len() == groups * group_bytes && groups.is_multiple_of(2));
    assert!(
        probes.words.len() == probes.sums.len() * WORDS && probes.sums.len().is_multiple_of(PASS)
    );
    let threshold = _mm512_set1_ps(min_similarity);
    let passes_end = probe_end.min(probes.n).div_ceil(PASS) * PASS;
    for first in (0..passes_end).step_by(PASS) {
        let words = &probes.words[first * WORDS..(first + PASS) * WORDS];
        for g in (0..groups).step_by(2) {
            let block = &rows.packed[g * group_bytes..(g + 2) * group_bytes];
            let mut acc = [[_mm512_setzero_si512(); 2]; PASS];
            for w in 0..WORDS {
                // SAFETY: `block` holds 2 groups of WORDS × 64 bytes (asserted above),
                // and `w < WORDS`, so both 64-byte loads stay inside it.
                let (r0, r1) = unsafe {
                    (
                        _mm512_loadu_si512(block.as_ptr().add(w * 64).cast::<__m512i>()),
                        _mm512_loadu_si512(
                            block.as_ptr().add(group_bytes + w * 64).cast::<__m512i>(),
                        ),
                    )
                };
                for (p, a) in acc.iter_mut().enumerate() {
                    let b = _mm512_set1_epi32(words[p * WORDS + w]);
                    a[0] = _mm512_dpbusd_epi32(a[0], r0, b);
                    a[1] = _mm512_dpbusd_epi32(a[1], r1, b);
                }
            }
            for (p, a) in acc.iter().enumerate() {
                let probe = first + p;
                if probe >= probes.n {
                    break;
                }
                let (ps, ep, rp) = (
                    probes.side.scale[probe],
                    probes.side.err[probe],
                    probes.side.rest[probe],
                );
                let bias = _mm512_set1_epi32(128 * probes.sums[probe]);
                for (half, &sums) in a.iter().enumerate() {
                    let first_row = (g + half) * LANES;
                    if first_row >= rows.n {
                        break;
                    }
                    // SAFETY: the per-row terms are padded to whole groups, so 16 values
                    // from `first_row` are inside each.
                    let (gs, eg, rg) = unsafe {
                        (
                            _mm512_loadu_ps(rows.side.scale.as_ptr().add(first_row)),
                            _mm512_loadu_ps(rows.side.err.as_ptr().add(first_row)),
                            _mm512_loadu_ps(rows.side.rest.as_ptr().add(first_row)),
                        )
                    };
                    let dots = _mm512_cvtepi32_ps(_mm512_sub_epi32(sums, bias));
                    let estimate = _mm512_mul_ps(dots, _mm512_mul_ps(gs, _mm512_set1_ps(ps)));
                    // ep + eg·(1 + ep) + rp·rg + 10⁻⁴, as `ScreenSide::slack`.
                    let slack = _mm512_fmadd_ps(
                        rg,
                        _mm512_set1_ps(rp),
                        _mm512_fmadd_ps(eg, _mm512_set1_ps(1.0 + ep), _mm512_set1_ps(ep + 1e-4)),
                    );
                    let mut mask =
                        _mm512_cmp_ps_mask::<_CMP_GE_OQ>(_mm512_add_ps(estimate, slack), threshold);
                    let valid = rows.n - first_row;
                    if valid < LANES {
                        mask &= (1u16 << valid) - 1;
                    }
                    while mask != 0 {
                        let lane = mask.trailing_zeros() as usize;
                        found.push((probe, first_row + lane));
                        mask &= mask - 1;
                    }
                }
            }
        }
    }
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

    /// Each kernel of the screen, on every shape of tile and pass (ragged lane groups,
    /// a ragged last pass, a probe limit): with no threshold it reports every real pair
    /// exactly once and no padding, and at a threshold each keeps every pair the exact
    /// score puts above it, and both keep the same pairs.
    #[test]
    fn both_screen_kernels_report_every_real_pair_and_no_padding() {
        let value = |i: usize, salt: usize| ((i * 7919 + salt * 104_729) % 255) as i8 / 2 - 32;
        let unit = |salt: usize| -> Vec<f32> {
            let v: Vec<f32> = (0..512).map(|i| f32::from(value(i, salt))).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / norm).collect()
        };
        let quantise = |rows: &[f32]| -> (Vec<i8>, Vec<f32>) {
            let mut q = Vec::new();
            let mut scales = Vec::new();
            for row in rows.chunks_exact(512) {
                let max = row.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                q.extend(row.iter().map(|x| (x * 127.0 / max).round() as i8));
                scales.push(max / 127.0);
            }
            (q, scales)
        };
        let kernels: Vec<bool> = [false, true]
            .into_iter()
            .filter(|&v| !v || has_avx512_vnni())
            .collect();
        for n in [1, 15, 16, 17, 31, 33, 70] {
            let rows: Vec<f32> = (0..n).flat_map(unit).collect();
            let (rq, rs) = quantise(&rows);
            for count in [1, 11, 12, 13, 30] {
                let probes: Vec<f32> = (0..count).flat_map(|p| unit(1_000 + p % 5)).collect();
                let (pq, ps) = quantise(&probes);
                let screened = ScreenProbes::new(&pq, &ps, &probes, 512);
                for end in [count, count / 2] {
                    let mut answers = Vec::new();
                    for &vnni in &kernels {
                        let tile = ScreenRows::with_kernel(&rq, &rs, &rows, 512, vnni);
                        let mut all = Vec::new();
                        screen(&tile, &screened, end, -2.0, &mut all);
                        all.retain(|&(p, _)| p < end);
                        all.sort_unstable();
                        let want: Vec<(usize, usize)> =
                            (0..end).flat_map(|p| (0..n).map(move |r| (p, r))).collect();
                        assert_eq!(all, want, "{n} rows, {count} probes, vnni {vnni}");
                        let mut kept = Vec::new();
                        screen(&tile, &screened, end, 0.3, &mut kept);
                        kept.retain(|&(p, _)| p < end);
                        kept.sort_unstable();
                        for p in 0..end {
                            for r in 0..n {
                                let exact = dot(
                                    &rows[r * 512..(r + 1) * 512],
                                    &probes[p * 512..(p + 1) * 512],
                                );
                                assert!(
                                    exact < 0.3 || kept.contains(&(p, r)),
                                    "pair ({p}, {r}) at {exact} missed, vnni {vnni}"
                                );
                            }
                        }
                        answers.push(kept);
                    }
                    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{n} x {count}");
                }
            }
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

        #[test]
        fn f16_kernels_agree_with_exact_arithmetic(v in proptest::collection::vec((-1.0f32..1.0, -1.0f32..1.0), 0..600)) {
            let (a, b): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            let h = halves(&a);
            let want = naive_f16(&h, &b);
            prop_assert!((f64::from(dot_f16(&h, &b)) - want).abs() < 1e-3);
            prop_assert!((f64::from(dot_f16_portable(&h, &b)) - want).abs() < 1e-3);
        }

        #[test]
        fn int4_kernels_are_exact(rows in proptest::collection::vec(-7i8..=7, 512 * 3), probe in proptest::collection::vec(-127i8..=127, 512)) {
            let mut packed = vec![0u8; I4_ROW * 3];
            for (codes, out) in rows.chunks_exact(512).zip(packed.chunks_exact_mut(I4_ROW)) {
                pack_i4(codes, out);
            }
            let want: Vec<i32> = rows
                .chunks_exact(512)
                .map(|codes| naive_i8(codes, &probe) as i32)
                .collect();
            let bias = 8 * probe.iter().map(|&p| i32::from(p)).sum::<i32>();
            let portable: Vec<i32> = packed
                .chunks_exact(I4_ROW)
                .map(|row| dot_i4_biased_portable(row, &probe) - bias)
                .collect();
            prop_assert_eq!(&portable, &want);
            let mut dispatched = [0i32; 3];
            dots_i4(&packed, &probe, &mut dispatched);
            prop_assert_eq!(dispatched.to_vec(), want.clone());
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vnni")
            {
                let mut simd = [0i32; 3];
                // SAFETY: the CPU supports AVX-512 F, BW and VNNI, checked just above.
                unsafe { dots_i4_avx512(&packed, &probe, &mut simd) };
                let simd: Vec<i32> = simd.iter().map(|s| s - bias).collect();
                prop_assert_eq!(simd, want);
            }
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
