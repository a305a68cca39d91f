//! The exact in-process matcher: the gallery as one contiguous matrix, every probe
//! compared with every template by the SIMD kernel. This is the matcher of the embedded
//! store and of mobile apps; it is also a cache in front of pgvector.
//!
//! A scan is bound by memory, not arithmetic, so the gallery can also keep a
//! compact copy of its rows ([`Precision::F16`], [`Precision::Int8`]): the scan reads the
//! compact rows, then the best few candidates are re-scored with the `f32` rows. Every
//! distance returned is the exact `f32` distance, and every ranking the exact ranking:
//! the quantisation's error bound proves that no row the first pass left out belongs in
//! the answer, or the rows it cannot rule out are re-scored too
//! ([`Gallery::top_k_within`]).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use half::f16;
use ndarray::ArrayView2;

use super::embedding::{EMBEDDING_DIM, FaceEmbedding};
use super::kernel::{
    I4_ROW, ScreenProbes, ScreenRows, dot, dots, dots_f16, dots_i4, dots_i8, pack_i4, screen,
};
use super::matcher::{Identification, MatchPolicy, ScoredCandidate};
use crate::domain::ids::ClientId;

const D: usize = EMBEDDING_DIM;

/// Candidates re-scored in `f32` after a compact scan, unless set with
/// [`Gallery::with_rerank`].
pub const DEFAULT_RERANK: usize = 32;

/// Rows scored per kernel call: one dispatch per block, and the scores stay in L1.
const BLOCK: usize = 256;

/// Probes from which [`Gallery::within`] screens pairs (see `kernel::screen`) instead of
/// scanning probe by probe: preparing a tile for the screen costs about what a few
/// single-probe passes over it do.
const SCREEN_MIN_PROBES: usize = 32;

/// A scan is split across threads only when each thread gets at least this many bytes
/// of rows to read: starting and joining a thread costs about 50 µs, reading 2 MiB
/// 60–120 µs (measured, `benches/README.md`). Tests lower it so small galleries
/// exercise the split.
const MIN_BYTES_PER_THREAD: usize = if cfg!(test) { 64 * 1024 } else { 2 << 20 };

/// How a [`Gallery`] stores the rows its scan reads.
///
/// The `f32` rows are always kept: they answer [`Gallery::verify`] and
/// [`Gallery::gallery`] and re-rank the candidates of a compact scan, so every distance
/// returned is exact whatever the precision. A compact precision adds a second, smaller
/// copy that the scan reads instead, trading memory for speed:
///
/// | precision | bytes held per template | bytes the scan reads per template |
/// |---|---|---|
/// | `F32` | 2 048 | 2 048 |
/// | `F16` | 3 072 (2 048 + 1 024) | 1 024 |
/// | `Int8` | 2 828 (2 048 + 512 and a scale + 256 and a scale and a residual) | 264 |
///
/// (Plus about 50 bytes per template for the client id and its index entry.) `Int8`
/// keeps each row at 8 bits, which a batch's many probes are screened against, and at 4
/// bits, which a single probe's first pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// The scan reads the `f32` rows: exact, the most bytes per probe.
    #[default]
    F32,
    /// IEEE half precision: 11 significant bits, about 5·10⁻⁴ relative error per value;
    /// widened to `f32` by F16C where the CPU has it.
    F16,
    /// Symmetric per-template quantisation, `q = round(v · 127 / max|v|)`, with integer
    /// products summed exactly in `i32`. Each row is also kept at 4 bits
    /// (`round(v · 7 / max|v|)`) with the norm of what that leaves out: a single
    /// probe's scan reads those first and proves its answer from that norm, and the
    /// 8-bit rows serve a batch's screen and the rare second pass.
    Int8,
}

impl std::str::FromStr for Precision {
    type Err = crate::Error;

    /// `f32`, `f16` or `int8`, the names the bindings take.
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "f32" => Ok(Self::F32),
            "f16" => Ok(Self::F16),
            "int8" => Ok(Self::Int8),
            _ => Err(crate::Error::validation(
                "precision",
                "expected 'f32', 'f16' or 'int8'",
            )),
        }
    }
}

impl Precision {
    /// Memory a gallery of this precision holds per template: the table above, plus the
    /// client id and its index entry. What `powergym health` multiplies by the number
    /// of templates to say whether a cache fits.
    pub fn held_bytes_per_template(self) -> usize {
        let rows = match self {
            Self::F32 => D * 4,
            Self::F16 => D * 4 + D * 2,
            Self::Int8 => D * 4 + D + 4 + I4_ROW + 8,
        };
        rows + 50
    }

    /// Bytes the scan reads per template.
    fn scanned_bytes(self) -> usize {
        match self {
            Self::F32 => D * 4,
            Self::F16 => D * 2,
            Self::Int8 => I4_ROW + 8,
        }
    }
}

/// The compact copy of the rows, kept in step with the `f32` rows.
#[derive(Default)]
enum Compact {
    #[default]
    None,
    F16(Vec<f16>),
    /// int8 rows (what a batch's many probes are screened against), and the same rows
    /// at 4 bits with each one's residual norm `|v − s·c|` (what a single probe's first
    /// pass reads: half the bytes again, and a bound per row, see [`Scan::Int4`]).
    Int8 {
        rows: Vec<i8>,
        scales: Vec<f32>,
        nibbles: Vec<u8>,
        scales4: Vec<f32>,
        residuals: Vec<f32>,
    },
}

impl Compact {
    fn new(precision: Precision) -> Self {
        match precision {
            Precision::F32 => Self::None,
            Precision::F16 => Self::F16(Vec::new()),
            Precision::Int8 => Self::Int8 {
                rows: Vec::new(),
                scales: Vec::new(),
                nibbles: Vec::new(),
                scales4: Vec::new(),
                residuals: Vec::new(),
            },
        }
    }

    fn precision(&self) -> Precision {
        match self {
            Self::None => Precision::F32,
            Self::F16(_) => Precision::F16,
            Self::Int8 { .. } => Precision::Int8,
        }
    }

    /// Adds a row: room for it, then filled by [`Compact::set`], so a row is encoded in
    /// one place.
    fn push(&mut self, v: &[f32]) {
        let i = match self {
            Self::None => return,
            Self::F16(rows) => {
                rows.resize(rows.len() + D, f16::ZERO);
                rows.len() / D - 1
            }
            Self::Int8 {
                rows,
                scales,
                nibbles,
                scales4,
                residuals,
            } => {
                rows.resize(rows.len() + D, 0);
                nibbles.resize(nibbles.len() + I4_ROW, 0);
                scales.push(0.0);
                scales4.push(0.0);
                residuals.push(0.0);
                scales.len() - 1
            }
        };
        self.set(i, v);
    }

    fn set(&mut self, i: usize, v: &[f32]) {
        match self {
            Self::None => {}
            Self::F16(rows) => {
                for (h, &x) in rows[i * D..(i + 1) * D].iter_mut().zip(v) {
                    *h = f16::from_f32(x);
                }
            }
            Self::Int8 {
                rows,
                scales,
                nibbles,
                scales4,
                residuals,
            } => {
                scales[i] = quantize(v, &mut rows[i * D..(i + 1) * D]);
                let (scale, residual) = quantize4(v, &mut nibbles[i * I4_ROW..(i + 1) * I4_ROW]);
                scales4[i] = scale;
                residuals[i] = residual;
            }
        }
    }

    /// Moves the last row into row `i` and drops the last row (as the `f32` rows do).
    fn swap_remove(&mut self, i: usize) {
        match self {
            Self::None => {}
            Self::F16(rows) => swap_remove_row(rows, i),
            Self::Int8 {
                rows,
                scales,
                nibbles,
                scales4,
                residuals,
                ..
            } => {
                swap_remove_row(rows, i);
                scales.swap_remove(i);
                swap_remove_row_of(nibbles, i, I4_ROW);
                scales4.swap_remove(i);
                residuals.swap_remove(i);
            }
        }
    }
}

/// Replaces row `i` of a row-major `· × D` matrix with its last row, then drops the last.
fn swap_remove_row<T: Copy>(rows: &mut Vec<T>, i: usize) {
    swap_remove_row_of(rows, i, D);
}

/// [`swap_remove_row`] for rows `width` values wide.
fn swap_remove_row_of<T: Copy>(rows: &mut Vec<T>, i: usize, width: usize) {
    let last = rows.len() / width - 1;
    if i != last {
        let (head, tail) = rows.split_at_mut(last * width);
        head[i * width..(i + 1) * width].copy_from_slice(tail);
    }
    rows.truncate(last * width);
}

/// Writes `v` as int8 into `out` and returns the scale that maps it back
/// (`v[i] ≈ out[i] · scale`).
fn quantize(v: &[f32], out: &mut [i8]) -> f32 {
    let max = max_abs(v);
    if max == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let inv = 127.0 / max;
    for (q, &x) in out.iter_mut().zip(v) {
        // |x · inv| ≤ 127 up to rounding; the clamp makes the cast exact.
        *q = round_small(x * inv).clamp(-127.0, 127.0) as i8;
    }
    max / 127.0
}

/// Writes `v` as packed int4 codes into `out` (see `kernel::pack_i4`) and returns the
/// scale that maps the codes back (`v[i] ≈ code[i] · scale`) and the norm of what that
/// leaves out, `|v − code · scale|`, rounded up so it bounds the true norm.
fn quantize4(v: &[f32], out: &mut [u8]) -> (f32, f32) {
    let max = max_abs(v);
    let mut codes = [0i8; D];
    let scale = if max == 0.0 { 0.0 } else { max / 7.0 };
    if scale > 0.0 {
        let inv = 7.0 / max;
        for (c, &x) in codes.iter_mut().zip(v) {
            // |x · inv| ≤ 7 up to rounding; the clamp makes the cast exact. A code one
            // off at a tie costs nothing: the residual below is measured from the codes.
            *c = round_small(x * inv).clamp(-7.0, 7.0) as i8;
        }
    }
    pack_i4(&codes, out);
    (scale, residual_norm(v, &codes, scale))
}

/// The largest magnitude among `v`'s (finite) values. Eight running maxima, so the loop
/// vectorises: one chain through 512 comparisons, twice per row, and `f32::round`, a
/// library call on a baseline x86-64 build, made encoding a row about 4.5 µs, most of
/// a cache load's time after the reading.
fn max_abs(v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = v.chunks_exact(8);
    for &x in chunks.remainder() {
        lanes[0] = lanes[0].max(x.abs());
    }
    for chunk in chunks {
        for (m, &x) in lanes.iter_mut().zip(chunk) {
            let a = x.abs();
            *m = if a > *m { a } else { *m };
        }
    }
    lanes.into_iter().fold(0.0, f32::max)
}

/// `x` rounded to the nearest integer (ties to even), for `|x| < 2²²`: adding and taking
/// away 1.5 · 2²³ leaves no bits below the units, in plain float arithmetic that
/// vectorises.
fn round_small(x: f32) -> f32 {
    const SHIFT: f32 = 12_582_912.0;
    (x + SHIFT) - SHIFT
}

/// The norm of what quantising `p` to `q · scale` leaves out, computed in f64 from the
/// stored scale and codes and rounded up, so it bounds the true norm. Summed in eight
/// lanes, so the loop vectorises; the order of a sum of 512 squares moves it by far
/// less than the margin.
fn residual_norm(p: &[f32], q: &[i8], scale: f32) -> f32 {
    let scale = f64::from(scale);
    let mut lanes = [0.0f64; 8];
    for (xs, cs) in p.chunks(8).zip(q.chunks(8)) {
        for ((lane, &x), &c) in lanes.iter_mut().zip(xs).zip(cs) {
            let off = f64::from(x) - f64::from(c) * scale;
            *lane += off * off;
        }
    }
    let sum: f64 = lanes.iter().sum();
    (sum.sqrt() * (1.0 + 1e-6)) as f32
}

/// One probe against one representation of the rows.
enum Scan<'a> {
    F32 {
        rows: &'a [f32],
        probe: &'a [f32],
    },
    F16 {
        rows: &'a [f16],
        probe: &'a [f32],
    },
    /// A second pass over int8 galleries: 8-bit rows against the probe in int8, each
    /// pair off by at most [`int8_bound`].
    Int8 {
        rows: &'a [i8],
        scales: &'a [f32],
        probe: Vec<i8>,
        probe_scale: f32,
    },
    /// The first pass of a single probe over int8 galleries: 4-bit rows against the
    /// probe in int8. For unit vectors `g` (a row) and `p` (the probe), with `ĝ`, `p̂`
    /// their quantised forms and `r_g`, `r_p` the residual norms, `⟨p, g⟩ − ⟨p̂, ĝ⟩ =
    /// ⟨p − p̂, g⟩ + ⟨p̂, g − ĝ⟩`, at most `r_p + (1 + r_p)·r_g` in size
    /// ([`int4_bound`]): estimated at about 0.13 in cosine for a random unit row, so
    /// within a threshold of 0.4 a stranger almost never comes near it. It ranks rows
    /// by the nearest each may be (its scanned distance less its own bound), so the
    /// last row it keeps bounds every row it leaves out, whatever one odd row's
    /// residual.
    Int4 {
        rows: &'a [u8],
        scales: &'a [f32],
        residuals: &'a [f32],
        probe: Vec<i8>,
        probe_scale: f32,
        probe_residual: f32,
    },
}

/// How far the int8 similarity of two unit vectors quantised with scales `a` and `b`
/// may be from their exact similarity: with `|v − q·s| ≤ s/2` per value, each side's
/// error vector has norm at most `e = s·√512/2`, and `⟨x, y⟩ − ⟨x̂, ŷ⟩ = ⟨x − x̂, y⟩ +
/// ⟨x̂, y − ŷ⟩` is at most `e_a + (1 + e_a)·e_b`; plus [`ROUNDING`].
fn int8_bound(a: f32, b: f32) -> f32 {
    let (ea, eb) = (a * (D as f32).sqrt() / 2.0, b * (D as f32).sqrt() / 2.0);
    ea + eb + ea * eb + ROUNDING
}

/// How far a [`Scan::Int4`] similarity may be from the exact one, for a probe and a row
/// with residual norms `probe` and `row`; plus [`ROUNDING`].
fn int4_bound(probe: f32, row: f32) -> f32 {
    probe + (1.0 + probe) * row + ROUNDING
}

/// A bound on the f32 rounding of the scanned similarity itself (products and sums of
/// 512 terms), added to every quantisation bound.
const ROUNDING: f32 = 1e-4;

/// How far an f16 row's similarity to a unit probe may be from the exact one: f16
/// rounds each value to 11 significant bits, off by at most 2⁻¹¹ of it, so
/// `|⟨p, v − h⟩| ≤ |v − h| ≤ 2⁻¹¹`; plus [`ROUNDING`]. Values below f16's normal range
/// are off by at most 2⁻²⁵ each, `√512 · 2⁻²⁵ ≈ 7·10⁻⁷` in norm: inside [`ROUNDING`].
const F16_ERROR: f32 = 1.0 / 2048.0 + ROUNDING;

impl Scan<'_> {
    /// How much nearer than its ranked distance (see [`Scan::best`]) any row may be.
    fn max_error(&self) -> f32 {
        match self {
            Self::F32 { .. } => 0.0,
            Self::F16 { .. } => F16_ERROR,
            // Ranked by each row's own bound already (see `best`).
            Self::Int4 { .. } => 0.0,
            // Only ever a second pass, which bounds each row by its own scale.
            Self::Int8 { .. } => f32::INFINITY,
        }
    }

    /// Each row's scanned similarity for the rows `start..end` (at most one block),
    /// into `scores`; with `upper`, its highest possible exact similarity instead (the
    /// scanned one plus the row's error bound).
    fn block(&self, start: usize, end: usize, upper: bool, scores: &mut [f32], ints: &mut [i32]) {
        let span = start * D..end * D;
        match self {
            Self::F32 { rows, probe } => dots(&rows[span], probe, scores),
            Self::F16 { rows, probe } => {
                dots_f16(&rows[span], probe, scores);
                if upper {
                    for s in scores.iter_mut() {
                        *s += F16_ERROR;
                    }
                }
            }
            Self::Int8 {
                rows,
                scales,
                probe,
                probe_scale,
            } => {
                dots_i8(&rows[span], probe, ints);
                for ((s, &q), &scale) in scores.iter_mut().zip(&*ints).zip(&scales[start..end]) {
                    *s = q as f32 * scale * probe_scale;
                    if upper {
                        *s += int8_bound(*probe_scale, scale);
                    }
                }
            }
            Self::Int4 {
                rows,
                scales,
                residuals,
                probe,
                probe_scale,
                probe_residual,
                ..
            } => {
                dots_i4(&rows[start * I4_ROW..end * I4_ROW], probe, ints);
                for (j, (s, &q)) in scores.iter_mut().zip(&*ints).enumerate() {
                    *s = q as f32 * scales[start + j] * probe_scale;
                    if upper {
                        *s += int4_bound(*probe_residual, residuals[start + j]);
                    }
                }
            }
        }
    }

    /// The rows of `range` whose exact distance may be at most `bar`: their scanned
    /// distance less their own error bound is not past it.
    fn not_ruled_out(&self, range: Range<usize>, bar: f32) -> Vec<usize> {
        let mut found = Vec::new();
        let mut scores = [0.0f32; BLOCK];
        let mut ints = [0i32; BLOCK];
        for start in range.clone().step_by(BLOCK) {
            let end = (start + BLOCK).min(range.end);
            let n = end - start;
            self.block(start, end, true, &mut scores[..n], &mut ints[..n]);
            found.extend(
                (0..n)
                    .filter(|&j| 1.0 - scores[j] <= bar)
                    .map(|j| start + j),
            );
        }
        found
    }

    /// The `keep` best rows of `range` by scanned distance (for 4-bit rows, the scanned
    /// distance less the row's own bound), as `(distance, row)`, best first, equal
    /// distances by row.
    fn best(&self, range: Range<usize>, keep: usize) -> Vec<(f32, usize)> {
        let mut best: Vec<(f32, usize)> = Vec::with_capacity(keep + 1);
        let mut scores = [0.0f32; BLOCK];
        let mut ints = [0i32; BLOCK];
        for start in range.clone().step_by(BLOCK) {
            let end = (start + BLOCK).min(range.end);
            let n = end - start;
            // 4-bit rows rank by the nearest each may be: their bounds differ row by row.
            let nearest = matches!(self, Self::Int4 { .. });
            self.block(start, end, nearest, &mut scores[..n], &mut ints[..n]);
            for (j, &similarity) in scores[..n].iter().enumerate() {
                let distance = 1.0 - similarity;
                if best.len() == keep && distance >= best[keep - 1].0 {
                    continue;
                }
                let at = best.partition_point(|c| c.0 <= distance);
                best.insert(at, (distance, start + j));
                best.truncate(keep);
            }
        }
        best
    }
}

/// Orders candidates by distance, then by row (the order a single scan keeps).
fn by_distance_then_row(a: &(f32, usize), b: &(f32, usize)) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// The threads a scan may use by default: what the OS gives this process, asked once.
fn default_threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// One active template per client, held in a row-major `n × 512` matrix, optionally
/// with a compact copy that the scan reads (see [`Precision`] for the memory each
/// costs).
///
/// Scans of large galleries are split across the available cores (each thread reads a
/// contiguous share of at least 2 MiB: about 1 000 `f32` templates, 7 900 int8 ones,
/// whose first pass reads 4-bit rows);
/// results do not depend on the split.
pub struct Gallery {
    ids: Vec<ClientId>,
    rows: Vec<f32>,
    compact: Compact,
    position: HashMap<ClientId, usize>,
    rerank: usize,
    threads: Option<usize>,
}

impl Default for Gallery {
    fn default() -> Self {
        Self::with_precision(Precision::F32)
    }
}

impl std::fmt::Debug for Gallery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gallery")
            .field("templates", &self.ids.len())
            .field("precision", &self.precision())
            .field("rerank", &self.rerank)
            .finish()
    }
}

impl Gallery {
    /// An empty gallery scanning exact `f32` rows.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty gallery whose scan reads rows stored at `precision`, re-ranking the
    /// best [`DEFAULT_RERANK`] candidates in `f32` when the precision is compact.
    pub fn with_precision(precision: Precision) -> Self {
        Self {
            ids: Vec::new(),
            rows: Vec::new(),
            compact: Compact::new(precision),
            position: HashMap::new(),
            rerank: DEFAULT_RERANK,
            threads: None,
        }
    }

    /// Sets how many candidates of a compact scan's first pass are re-scored in `f32`
    /// (at least the `k` asked for are, always). The answer is exact whatever the
    /// number; more candidates make the first pass's proof hold more often (it fails
    /// when more templates than this lie within the quantisation error of the answer,
    /// and a second pass then re-reads the rows), at the cost of one `f32` dot product
    /// each. Ignored at [`Precision::F32`].
    #[must_use]
    pub fn with_rerank(mut self, candidates: usize) -> Self {
        self.rerank = candidates;
        self
    }

    /// Caps the threads one scan may use (default: the available parallelism). `1`
    /// keeps every scan on the calling thread, for callers that already run one probe
    /// per core.
    #[must_use]
    pub fn with_scan_threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads.max(1));
        self
    }

    /// The precision of the rows the scan reads.
    pub fn precision(&self) -> Precision {
        self.compact.precision()
    }

    /// Candidates re-scored in `f32` after a compact scan.
    pub fn rerank(&self) -> usize {
        self.rerank
    }

    /// Templates held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no template is held.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// True when the client has a template here.
    pub fn contains(&self, client: ClientId) -> bool {
        self.position.contains_key(&client)
    }

    /// The gallery as an `n × 512` matrix view (row `i` belongs to the `i`-th id).
    pub fn gallery(&self) -> ArrayView2<'_, f32> {
        ArrayView2::from_shape((self.ids.len(), D), &self.rows)
            .expect("rows always hold n × 512 values")
    }

    /// Sets the client's template, replacing the one it had.
    pub fn upsert(&mut self, client: ClientId, embedding: &FaceEmbedding) {
        let v = embedding.as_slice();
        match self.position.get(&client) {
            Some(&i) => {
                self.rows[i * D..(i + 1) * D].copy_from_slice(v);
                self.compact.set(i, v);
            }
            None => {
                self.position.insert(client, self.ids.len());
                self.ids.push(client);
                self.rows.extend_from_slice(v);
                self.compact.push(v);
            }
        }
    }

    /// Makes room for `additional` more templates at once, so a load of known size
    /// allocates its rows once instead of doubling (and briefly holding twice) them.
    pub fn reserve(&mut self, additional: usize) {
        self.ids.reserve(additional);
        self.rows.reserve(additional * D);
        self.position.reserve(additional);
        match &mut self.compact {
            Compact::None => {}
            Compact::F16(rows) => rows.reserve(additional * D),
            Compact::Int8 {
                rows,
                scales,
                nibbles,
                scales4,
                residuals,
                ..
            } => {
                rows.reserve(additional * D);
                scales.reserve(additional);
                nibbles.reserve(additional * I4_ROW);
                scales4.reserve(additional);
                residuals.reserve(additional);
            }
        }
    }

    /// Every template within `max_distance` of each probe: `(probe index, candidate)`
    /// with the exact `f32` distance, in no particular order. Exact, and fast for many
    /// probes at once (a batch's duplicate check).
    ///
    /// Probes and templates are compared in int8 tile by tile (a tile of rows stays in
    /// cache while every probe passes over it), and a pair is scored in `f32` whenever
    /// its int8 similarity is within the quantisation error bound of the threshold, so
    /// no pair within `max_distance` is missed: with `|v − q·s| ≤ s/2` per value, each
    /// side's error vector has norm at most `e = s·√512/2`, and for unit vectors the
    /// int8 similarity is off by at most `e_a + e_b + e_a·e_b`. From 32 probes the int8
    /// pass scores only the first 320 values of each pair and bounds the rest by their
    /// norms (`kernel::screen`, AVX-512 VNNI where the CPU has it): about a tenth of the
    /// time for a batch's check against 100k templates. A single probe against an
    /// [`Precision::Int8`] gallery reads its 4-bit rows instead, each pair bounded by the
    /// residual norms (see [`Gallery::top_k_within`]): a single enrolment's duplicate
    /// check reads half the bytes.
    pub fn within(
        &self,
        probes: &[FaceEmbedding],
        max_distance: f32,
    ) -> Vec<(usize, ScoredCandidate)> {
        let flat: Vec<f32> = probes
            .iter()
            .flat_map(|p| p.as_slice().iter().copied())
            .collect();
        self.scan_within(&flat, max_distance, false)
    }

    /// Every pair of templates of this gallery within `max_distance` of each other,
    /// each pair once (the earlier-stored template's client first) with its exact
    /// `f32` distance. The same exact scan as [`Gallery::within`] with the gallery's own
    /// templates as probes, at half its cost: each pair is scored from one side only (a
    /// batch's check against itself).
    pub fn close_pairs(&self, max_distance: f32) -> Vec<(ClientId, ClientId, f32)> {
        self.scan_within(&self.rows, max_distance, true)
            .into_iter()
            .map(|(p, c)| (self.ids[p], c.client_id, c.distance))
            .collect()
    }

    /// [`Gallery::within`] for the unit vectors in `flat` (512 values each); with `own`,
    /// `flat` is this gallery's rows and only pairs of a row with a later row are scored.
    fn scan_within(
        &self,
        flat: &[f32],
        max_distance: f32,
        own: bool,
    ) -> Vec<(usize, ScoredCandidate)> {
        let probe_count = flat.len() / D;
        if probe_count == 0 || self.is_empty() {
            return Vec::new();
        }
        if !own && probe_count == 1 && matches!(self.compact, Compact::Int8 { .. }) {
            // One probe (a single enrolment's duplicate check) reads the 4-bit rows on
            // every core, and the rows its bound cannot rule out are scored in f32. More
            // probes share each tile's read below instead.
            let mut found = Vec::new();
            for (at, p) in flat.chunks_exact(D).enumerate() {
                let (first, _) = self.passes(p).expect("an int8 gallery has passes");
                for i in self.split(|rows| first.not_ruled_out(rows, max_distance)) {
                    let distance = 1.0 - dot(self.row(i), p);
                    if distance <= max_distance {
                        found.push((at, ScoredCandidate::new(self.ids[i], distance)));
                    }
                }
            }
            return found;
        }
        let quantized = |rows: &[f32]| -> (Vec<i8>, Vec<f32>) {
            let n = rows.len() / D;
            let mut q = vec![0i8; n * D];
            let mut scales = Vec::with_capacity(n);
            for (row, out) in rows.chunks_exact(D).zip(q.chunks_exact_mut(D)) {
                scales.push(quantize(row, out));
            }
            (q, scales)
        };
        let quantized_rows;
        let (rows, scales): (&[i8], &[f32]) = match &self.compact {
            Compact::Int8 { rows, scales, .. } => (rows, scales),
            _ => {
                quantized_rows = quantized(&self.rows);
                (&quantized_rows.0, &quantized_rows.1)
            }
        };
        let (probe_rows, probe_scales) = quantized(flat);
        let min_similarity = 1.0 - max_distance;
        let n = self.len();
        let tiles = n.div_ceil(BLOCK);
        let threads = self
            .threads
            .unwrap_or_else(default_threads)
            .min((n * probe_count * D) / (MIN_BYTES_PER_THREAD * 8) + 1)
            .clamp(1, tiles);
        // Many probes: the screen (int8 on the first 320 values of each vector, VNNI where
        // the CPU has it) proposes the pairs that may be within, and each is scored in
        // f32. Packing a tile for it costs about what a few single-probe passes do.
        let screened = (probe_count >= SCREEN_MIN_PROBES)
            .then(|| ScreenProbes::new(&probe_rows, &probe_scales, flat, D));
        // Threads take every `threads`-th tile: with `own`, later tiles have more probes.
        let scan = |thread: usize| -> Vec<(usize, ScoredCandidate)> {
            let mut found = Vec::new();
            let keep = |p: usize, i: usize, found: &mut Vec<(usize, ScoredCandidate)>| {
                if own && i <= p {
                    return;
                }
                let distance = 1.0 - dot(self.row(i), &flat[p * D..(p + 1) * D]);
                if distance <= max_distance {
                    found.push((p, ScoredCandidate::new(self.ids[i], distance)));
                }
            };
            let mut ints = [0i32; BLOCK];
            let mut pairs = Vec::new();
            for tile in (thread..tiles).step_by(threads) {
                let start = tile * BLOCK;
                let end = (start + BLOCK).min(n);
                // With `own`, a probe after this tile pairs with none of its rows.
                let probe_end = if own {
                    end.min(probe_count)
                } else {
                    probe_count
                };
                let tile_rows = &rows[start * D..end * D];
                if let Some(screened) = &screened {
                    let packed = ScreenRows::new(
                        tile_rows,
                        &scales[start..end],
                        &self.rows[start * D..end * D],
                        D,
                    );
                    pairs.clear();
                    screen(&packed, screened, probe_end, min_similarity, &mut pairs);
                    for &(p, r) in &pairs {
                        keep(p, start + r, &mut found);
                    }
                    continue;
                }
                let ints = &mut ints[..end - start];
                for (p, (probe, &ps)) in probe_rows
                    .chunks_exact(D)
                    .zip(&probe_scales)
                    .take(probe_end)
                    .enumerate()
                {
                    dots_i8(tile_rows, probe, ints);
                    for (j, &q) in ints.iter().enumerate() {
                        let gs = scales[start + j];
                        if q as f32 * gs * ps + int8_bound(ps, gs) >= min_similarity {
                            keep(p, start + j, &mut found);
                        }
                    }
                }
            }
            found
        };
        if threads == 1 {
            return scan(0);
        }
        std::thread::scope(|s| {
            let scan = &scan;
            let others: Vec<_> = (1..threads).map(|t| s.spawn(move || scan(t))).collect();
            let mut all = scan(0);
            for other in others {
                all.extend(
                    other
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            all
        })
    }

    /// Deletes the client's template (the last row moves into its place). Returns
    /// whether there was one.
    pub fn remove(&mut self, client: ClientId) -> bool {
        let Some(i) = self.position.remove(&client) else {
            return false;
        };
        let last = self.ids.len() - 1;
        swap_remove_row(&mut self.rows, i);
        self.compact.swap_remove(i);
        self.ids.swap_remove(i);
        if i != last {
            self.position.insert(self.ids[i], i);
        }
        true
    }

    /// The `k` closest templates, nearest first, with exact `f32` distances: the exact
    /// ranking at every precision (see [`Gallery::top_k_within`] for how a compact scan
    /// proves it).
    pub fn top_k(&self, probe: &FaceEmbedding, k: usize) -> Vec<ScoredCandidate> {
        self.ranked(probe, k, f32::INFINITY)
    }

    /// The `k` closest templates within `max_distance` of the probe, nearest first, with
    /// exact `f32` distances: all an identification needs, since a candidate past the
    /// policy's threshold never decides one.
    ///
    /// A compact scan ranks by approximate distances, each off by at most a bound known
    /// from the quantisation. An int8 gallery's first pass reads its 4-bit rows, each off
    /// by at most `r_p + (1 + r_p)·r_g` (the probe's and the row's residual norms, see
    /// `Scan::Int4`), and a second pass, if one is needed, its 8-bit rows (at most
    /// `e_p + e_g + e_p·e_g` with `e = s·√512/2` per side); f16 rows are off by 2⁻¹¹
    /// relative per value. The first pass's best candidates are re-scored in `f32`; a
    /// row it left out scanned at least as far as the last one kept, so when that
    /// distance, less the largest bound, is still past the `k`-th exact distance or
    /// `max_distance`, whichever is nearer, no row left out can belong in the answer.
    /// When it is not (many templates crowded within the error of the answer, or a
    /// stranger's nearest ones asked for without a threshold), every row the second
    /// pass's bound cannot rule out is re-scored too. The answer is exact either way;
    /// with a threshold the proof almost always holds at once.
    pub fn top_k_within(
        &self,
        probe: &FaceEmbedding,
        k: usize,
        max_distance: f32,
    ) -> Vec<ScoredCandidate> {
        self.ranked(probe, k, max_distance)
    }

    /// A compact gallery's first pass for the probe `p`, and the rows a second pass reads
    /// if the first cannot prove its answer: f16 both times; for int8 galleries the
    /// 4-bit rows first (half the bytes), then the 8-bit rows, whose bound is several
    /// times narrower (estimated), so a second pass re-scores few rows. `None` for `f32` rows.
    fn passes<'a>(&'a self, p: &'a [f32]) -> Option<(Scan<'a>, Scan<'a>)> {
        match &self.compact {
            Compact::None => None,
            Compact::F16(rows) => {
                Some((Scan::F16 { rows, probe: p }, Scan::F16 { rows, probe: p }))
            }
            Compact::Int8 {
                rows,
                scales,
                nibbles,
                scales4,
                residuals,
            } => {
                let mut q = vec![0i8; D];
                let probe_scale = quantize(p, &mut q);
                Some((
                    Scan::Int4 {
                        rows: nibbles,
                        scales: scales4,
                        residuals,
                        probe_residual: residual_norm(p, &q, probe_scale),
                        probe: q.clone(),
                        probe_scale,
                    },
                    Scan::Int8 {
                        rows,
                        scales,
                        probe: q,
                        probe_scale,
                    },
                ))
            }
        }
    }

    fn ranked(&self, probe: &FaceEmbedding, k: usize, max_distance: f32) -> Vec<ScoredCandidate> {
        if k == 0 || self.is_empty() || max_distance.is_nan() {
            return Vec::new();
        }
        // Asking for more than the gallery holds means all of it (and a huge `k` must not
        // size a buffer).
        let k = k.min(self.len());
        let p = probe.as_slice();
        let mut ranked = match &self.compact {
            Compact::None => self.scan(
                &Scan::F32 {
                    rows: &self.rows,
                    probe: p,
                },
                k,
            ),
            Compact::F16(_) | Compact::Int8 { .. } => {
                let (scan, second) = self.passes(p).expect("a compact gallery has passes");
                let keep = k.max(self.rerank);
                let scanned = self.scan(&scan, keep);
                // Every row left out scanned at least this far (none is, when all were kept).
                let cut = (scanned.len() == keep && keep < self.len()).then(|| scanned[keep - 1].0);
                let mut exact: Vec<(f32, usize)> = scanned
                    .into_iter()
                    .map(|(_, i)| (1.0 - dot(self.row(i), p), i))
                    .collect();
                exact.sort_by(by_distance_then_row);
                if let Some(cut) = cut {
                    // A row left out belongs in the answer only if it may be this near.
                    let bar = exact
                        .get(k - 1)
                        .map_or(max_distance, |c| c.0.min(max_distance));
                    if cut - scan.max_error() <= bar {
                        #[cfg(test)]
                        tests::FALLBACKS.with(|f| f.set(f.get() + 1));
                        let kept: std::collections::HashSet<usize> =
                            exact.iter().map(|c| c.1).collect();
                        for i in self.split(|rows| second.not_ruled_out(rows, bar)) {
                            if !kept.contains(&i) {
                                exact.push((1.0 - dot(self.row(i), p), i));
                            }
                        }
                        exact.sort_by(by_distance_then_row);
                    }
                }
                exact.truncate(k);
                exact
            }
        };
        ranked.retain(|c| c.0 <= max_distance);
        ranked
            .into_iter()
            .map(|(distance, i)| ScoredCandidate::new(self.ids[i], distance))
            .collect()
    }

    /// Who the probe belongs to, under `policy`.
    pub fn identify(&self, probe: &FaceEmbedding, policy: &MatchPolicy) -> Identification {
        policy.decide(&self.top_k_within(probe, 2, policy.max_distance()))
    }

    /// Whether the probe matches this client's template; `None` when the client has
    /// none.
    pub fn verify(
        &self,
        client: ClientId,
        probe: &FaceEmbedding,
        policy: &MatchPolicy,
    ) -> Option<(bool, ScoredCandidate)> {
        let &i = self.position.get(&client)?;
        let c = ScoredCandidate::new(client, 1.0 - dot(self.row(i), probe.as_slice()));
        Some((policy.verifies(c.distance), c))
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.rows[i * D..(i + 1) * D]
    }

    /// The `keep` best rows by scanned distance, split across threads when the gallery
    /// is large enough to pay for them.
    fn scan(&self, scan: &Scan<'_>, keep: usize) -> Vec<(f32, usize)> {
        let mut all = self.split(|rows| scan.best(rows, keep));
        all.sort_by(by_distance_then_row);
        all.truncate(keep);
        all
    }

    /// `work` over contiguous shares of the rows, one per thread, the results joined in
    /// row order.
    fn split<T: Send>(&self, work: impl Fn(Range<usize>) -> Vec<T> + Sync) -> Vec<T> {
        let n = self.len();
        let threads = self
            .threads
            .unwrap_or_else(default_threads)
            .min(n * self.precision().scanned_bytes() / MIN_BYTES_PER_THREAD)
            .max(1);
        if threads == 1 {
            return work(0..n);
        }
        let share = n.div_ceil(threads);
        let work = &work;
        std::thread::scope(|s| {
            let others: Vec<_> = (1..threads)
                .map(|t| s.spawn(move || work(t * share..((t + 1) * share).min(n))))
                .collect();
            let mut all = work(0..share);
            for other in others {
                all.extend(
                    other
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            all
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::kernel;
    use proptest::prelude::*;

    const PRECISIONS: [Precision; 3] = [Precision::F32, Precision::F16, Precision::Int8];

    thread_local! {
        /// Compact scans on this thread whose first pass could not prove its answer and
        /// re-scored every row the error bound left in.
        pub(super) static FALLBACKS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn fallbacks() -> usize {
        FALLBACKS.with(std::cell::Cell::get)
    }

    proptest! {
        /// The quantisers' fast parts agree with the library: the rounding with
        /// `round_ties_even` over the whole range they see (ties included), the maximum
        /// with a plain fold, and every int8 value within half a step of the row.
        #[test]
        fn the_fast_rounding_and_maximum_are_exact(
            halves in -300i32..=300,
            fraction in -1.0f32..1.0,
            values in proptest::collection::vec(-1.0f32..1.0, 1..600),
        ) {
            let tie = halves as f32 / 2.0;
            prop_assert_eq!(round_small(tie), tie.round_ties_even());
            let x = fraction * 127.5;
            prop_assert_eq!(round_small(x), x.round_ties_even());
            let max = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            prop_assert_eq!(max_abs(&values), max);
            if values.len() >= D && max > 0.0 {
                let row = &values[..D];
                let mut q = vec![0i8; D];
                let scale = quantize(row, &mut q);
                // Half a step, and the f32 roundings of the scale and of `v · 127 / max`
                // (up to about 2·10⁻⁵ of a step), which `ROUNDING` covers.
                let step = f64::from(scale);
                for (&v, &c) in row.iter().zip(&q) {
                    let off = (f64::from(v) - f64::from(c) * step).abs();
                    prop_assert!(off <= step * (0.5 + 1e-4), "{} of a step off", off / step);
                }
            }
        }
    }

    /// A deterministic pseudo-random unit vector (xorshift), no RNG crate needed.
    fn random_face(seed: u64) -> FaceEmbedding {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let v: Vec<f32> = (0..EMBEDDING_DIM)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x as f64 / u64::MAX as f64 * 2.0 - 1.0) as f32
            })
            .collect();
        FaceEmbedding::from_slice(&v).unwrap()
    }

    /// `face` moved toward another random direction by `noise` (0 = unchanged).
    fn noisy(face: &FaceEmbedding, seed: u64, noise: f32) -> FaceEmbedding {
        let other = random_face(seed);
        let v: Vec<f32> = face
            .as_slice()
            .iter()
            .zip(other.as_slice())
            .map(|(a, b)| a + noise * b)
            .collect();
        FaceEmbedding::from_slice(&v).unwrap()
    }

    /// A unit vector at cosine distance `distance` from `face`, exactly up to rounding:
    /// `cos·face + sin·u` with `u` a random unit vector orthogonal to `face`.
    fn at_distance(face: &FaceEmbedding, seed: u64, distance: f64) -> FaceEmbedding {
        let t: Vec<f64> = face.as_slice().iter().map(|&x| f64::from(x)).collect();
        let r: Vec<f64> = random_face(seed)
            .as_slice()
            .iter()
            .map(|&x| f64::from(x))
            .collect();
        let along: f64 = t.iter().zip(&r).map(|(a, b)| a * b).sum();
        let u: Vec<f64> = r.iter().zip(&t).map(|(x, a)| x - along * a).collect();
        let norm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
        let cos = 1.0 - distance;
        let sin = (1.0 - cos * cos).sqrt();
        let v: Vec<f32> = t
            .iter()
            .zip(&u)
            .map(|(a, x)| (cos * a + sin * x / norm) as f32)
            .collect();
        FaceEmbedding::from_slice(&v).unwrap()
    }

    fn id(n: u128) -> ClientId {
        ClientId::from_uuid(uuid::Uuid::from_u128(n))
    }

    fn bits(candidates: &[ScoredCandidate]) -> Vec<(ClientId, u32)> {
        candidates
            .iter()
            .map(|c| (c.client_id, c.distance.to_bits()))
            .collect()
    }

    /// Every representation holds the same rows, in the same order as the ids.
    fn assert_in_sync(g: &Gallery) {
        let n = g.len();
        assert_eq!((g.rows.len(), g.position.len()), (n * D, n));
        for (i, client) in g.ids.iter().enumerate() {
            assert_eq!(g.position[client], i);
        }
        match &g.compact {
            Compact::None => {}
            Compact::F16(rows) => {
                assert_eq!(rows.len(), n * D);
                for (h, &x) in rows.iter().zip(&g.rows) {
                    assert_eq!(*h, f16::from_f32(x));
                }
            }
            Compact::Int8 {
                rows,
                scales,
                nibbles,
                scales4,
                residuals,
            } => {
                assert_eq!((rows.len(), scales.len()), (n * D, n));
                assert_eq!(
                    (nibbles.len(), scales4.len(), residuals.len()),
                    (n * I4_ROW, n, n)
                );
                for i in 0..n {
                    let mut q = vec![0i8; D];
                    let scale = quantize(g.row(i), &mut q);
                    assert_eq!((&rows[i * D..(i + 1) * D], scales[i]), (&q[..], scale));
                    let mut packed = vec![0u8; I4_ROW];
                    let (scale4, residual) = quantize4(g.row(i), &mut packed);
                    assert_eq!(
                        (
                            &nibbles[i * I4_ROW..(i + 1) * I4_ROW],
                            scales4[i],
                            residuals[i]
                        ),
                        (&packed[..], scale4, residual)
                    );
                }
            }
        }
    }

    #[test]
    fn identify_verify_replace_and_remove() {
        for precision in PRECISIONS {
            let mut m = Gallery::with_precision(precision);
            assert_eq!(m.precision(), precision);
            for n in 0..200u64 {
                m.upsert(id(u128::from(n)), &random_face(n));
            }
            let policy = MatchPolicy::default();
            let probe = noisy(&random_face(42), 10_000, 0.3);
            assert_eq!(m.top_k(&probe, usize::MAX).len(), 200, "{precision:?}");
            match m.identify(&probe, &policy) {
                Identification::Match(c) => assert_eq!(c.client_id, id(42)),
                other => panic!("{precision:?}: {other:?}"),
            }
            // A stranger matches nobody: random 512-d directions are nearly orthogonal.
            assert_eq!(
                m.identify(&random_face(99_999), &policy),
                Identification::NoMatch
            );
            let (ok, c) = m.verify(id(42), &probe, &policy).unwrap();
            assert!(ok && c.distance < 0.1);
            assert!(!m.verify(id(41), &probe, &policy).unwrap().0);

            // Replacing a template is atomic in the gallery: one row per client.
            m.upsert(id(42), &random_face(7_777));
            assert_eq!(m.len(), 200);
            assert_ne!(
                m.identify(&probe, &policy),
                Identification::Match(ScoredCandidate::new(id(42), 0.0))
            );
            assert!(m.contains(id(7)));
            assert!(m.remove(id(7)));
            assert!(!m.remove(id(7)));
            assert!(!m.contains(id(7)));
            assert_eq!((m.len(), m.gallery().nrows()), (199, 199));
            assert!(m.verify(id(7), &probe, &policy).is_none());
            assert_in_sync(&m);
        }
    }

    #[test]
    fn two_templates_of_near_twins_are_ambiguous() {
        for precision in PRECISIONS {
            let mut m = Gallery::with_precision(precision);
            let face = random_face(1);
            m.upsert(id(1), &noisy(&face, 2, 0.05));
            m.upsert(id(2), &noisy(&face, 3, 0.05));
            assert!(matches!(
                m.identify(&face, &MatchPolicy::default()),
                Identification::Ambiguous { .. }
            ));
        }
    }

    #[test]
    fn empty_gallery_and_k_zero() {
        for precision in PRECISIONS {
            let mut m = Gallery::with_precision(precision);
            assert!(m.top_k(&random_face(1), 3).is_empty());
            m.upsert(id(1), &random_face(1));
            assert!(m.top_k(&random_face(1), 0).is_empty());
            assert_eq!(m.top_k(&random_face(1), 5).len(), 1);
            assert!(m.remove(id(1)) && m.is_empty());
            assert_in_sync(&m);
        }
    }

    #[test]
    fn compact_rankings_equal_the_exact_f32_ranking() {
        // Identities, genuine probes at ArcFace-like distances 0.2–0.6, and strangers
        // (whose best candidates are crowded near distance 0.85).
        let galleries = PRECISIONS.map(|p| {
            let mut g = Gallery::with_precision(p);
            for n in 0..3_000u64 {
                g.upsert(id(u128::from(n)), &random_face(n));
            }
            g
        });
        for s in 0..60u64 {
            let genuine = at_distance(
                &random_face(s * 37),
                1_000_000 + s,
                0.2 + 0.4 * s as f64 / 60.0,
            );
            for probe in [genuine, random_face(2_000_000 + s)] {
                let exact = galleries[0].top_k(&probe, 5);
                for g in &galleries[1..] {
                    assert_eq!(bits(&g.top_k(&probe, 5)), bits(&exact), "{g:?}");
                }
            }
        }
    }

    #[test]
    fn near_ties_inside_the_quantisation_error_are_ranked_exactly_even_without_a_rerank() {
        // Ten templates within 2·10⁻⁵ of each other in distance, far below the int8
        // error, among 500 others; the exact best is template 1 000 + 0. With no re-rank
        // the first pass keeps only the `k` asked for and cannot prove them: the bound
        // sends it back to every row it cannot rule out.
        for s in 0..40u64 {
            let probe = random_face(10_000_000 + s);
            let mut galleries = PRECISIONS.map(Gallery::with_precision);
            let mut raw = [Precision::F16, Precision::Int8]
                .map(|p| Gallery::with_precision(p).with_rerank(0));
            for n in 0..500u64 {
                let face = random_face(s * 1_000 + n);
                for g in galleries.iter_mut().chain(&mut raw) {
                    g.upsert(id(u128::from(n)), &face);
                }
            }
            for j in [7u64, 2, 9, 0, 4, 1, 8, 5, 3, 6] {
                let face = at_distance(&probe, 9_000 + 10 * s + j, 0.3 + 2e-5 * j as f64);
                for g in galleries.iter_mut().chain(&mut raw) {
                    g.upsert(id(u128::from(1_000 + j)), &face);
                }
            }
            let exact = galleries[0].top_k(&probe, 3);
            assert_eq!(exact[0].client_id, id(1_000));
            for g in galleries[1..].iter().chain(&raw) {
                assert_eq!(bits(&g.top_k(&probe, 3)), bits(&exact), "{g:?}");
                assert_eq!(bits(&g.top_k_within(&probe, 3, 0.4)), bits(&exact), "{g:?}");
                // The threshold closer than the twins: none of them.
                assert!(g.top_k_within(&probe, 3, 0.299).is_empty(), "{g:?}");
                let before = fallbacks();
                assert_eq!(bits(&g.top_k(&probe, 1)), bits(&exact[..1]), "{g:?}");
                if g.rerank() == 0 {
                    assert_eq!(fallbacks(), before + 1, "{g:?} proved a guess");
                } else {
                    assert_eq!(fallbacks(), before, "{g:?} needed a second pass");
                }
            }
        }
    }

    #[test]
    fn a_threshold_lets_the_first_pass_prove_a_strangers_answer() {
        // With no extra candidates re-scored, the first pass cannot prove a stranger's
        // nearest two among the crowd near distance 0.85; within the policy's 0.4 it
        // proves a member's answer and a stranger's empty one at once.
        let mut g = Gallery::with_precision(Precision::Int8).with_rerank(0);
        for n in 0..5_000u64 {
            g.upsert(id(u128::from(n)), &random_face(n));
        }
        let mut exact = Gallery::with_precision(Precision::F32);
        for n in 0..5_000u64 {
            exact.upsert(id(u128::from(n)), &random_face(n));
        }
        let mut unbounded_fallbacks = 0;
        for s in 0..50u64 {
            let stranger = random_face(7_000_000 + s);
            let member = at_distance(&random_face(s * 97), 8_000_000 + s, 0.3);
            let before = fallbacks();
            assert!(g.top_k_within(&stranger, 2, 0.4).is_empty());
            let found = g.top_k_within(&member, 2, 0.4);
            assert_eq!(
                fallbacks(),
                before,
                "a search within the threshold needed a second pass"
            );
            assert_eq!(bits(&found), bits(&exact.top_k_within(&member, 2, 0.4)));
            assert_eq!(found.len(), 1);
            assert_eq!(
                bits(&g.top_k(&stranger, 2)),
                bits(&exact.top_k(&stranger, 2))
            );
            unbounded_fallbacks += fallbacks() - before;
        }
        // Without a threshold, the crowd sends the strangers' searches to the second pass.
        assert!(unbounded_fallbacks > 25, "{unbounded_fallbacks}");
    }

    /// A unit vector with one value `peak` and every other at the same small size with
    /// random signs: each small value quantises to 0 at 4 bits, so almost all of the
    /// vector is left out (residual about `√(1 − peak²)`).
    fn spiky_face(seed: u64, peak: f32) -> FaceEmbedding {
        let rest = ((1.0 - peak * peak) / (D as f32 - 1.0)).sqrt();
        let signs = random_face(seed);
        let v: Vec<f32> = (0..D)
            .map(|i| {
                if i == 0 {
                    peak
                } else {
                    rest.copysign(signs.as_slice()[i])
                }
            })
            .collect();
        FaceEmbedding::from_slice(&v).unwrap()
    }

    #[test]
    fn every_4_bit_score_is_within_its_bound_of_the_exact_one() {
        let mut g = Gallery::with_precision(Precision::Int8);
        let mut faces = Vec::new();
        for n in 0..200u64 {
            faces.push(match n % 4 {
                0 => spiky_face(n, 0.55),
                1 => spiky_face(n, 0.99),
                2 => skewed_face(n, 30.0, n % 8 == 2),
                _ => random_face(n),
            });
        }
        for (n, f) in faces.iter().enumerate() {
            g.upsert(id(n as u128), f);
        }
        let n = g.len();
        let (mut scanned, mut upper, mut ints) = ([0.0f32; BLOCK], [0.0f32; BLOCK], [0i32; BLOCK]);
        for s in 0..40u64 {
            let probe = if s % 2 == 0 {
                spiky_face(1_000 + s, 0.7)
            } else {
                at_distance(&faces[s as usize], 2_000 + s, 0.05)
            };
            let (first, _) = g.passes(probe.as_slice()).unwrap();
            first.block(0, n, false, &mut scanned[..n], &mut ints[..n]);
            first.block(0, n, true, &mut upper[..n], &mut ints[..n]);
            for i in 0..n {
                let exact = dot(g.row(i), probe.as_slice());
                let bound = upper[i] - scanned[i];
                assert!(
                    (exact - scanned[i]).abs() <= bound,
                    "row {i}: exact {exact}, scanned {}, bound {bound}",
                    scanned[i]
                );
            }
        }
    }

    #[test]
    fn one_odd_template_does_not_send_every_search_to_the_second_pass() {
        // A spiky template leaves most of itself out at 4 bits (residual about 0.84).
        // Ranked by the nearest each row may be, it is simply kept among the candidates,
        // and the others' answers are still proven in one pass.
        let mut g = Gallery::with_precision(Precision::Int8);
        let mut exact = Gallery::with_precision(Precision::F32);
        let odd = spiky_face(77, 0.55);
        for n in 0..3_000u64 {
            let face = if n == 0 { odd.clone() } else { random_face(n) };
            g.upsert(id(u128::from(n)), &face);
            exact.upsert(id(u128::from(n)), &face);
        }
        let before = fallbacks();
        for s in 1..40u64 {
            for probe in [
                at_distance(&random_face(s * 61), 3_000 + s, 0.3),
                random_face(4_000_000 + s),
                at_distance(&odd, 5_000 + s, 0.3),
            ] {
                assert_eq!(
                    bits(&g.top_k_within(&probe, 2, 0.4)),
                    bits(&exact.top_k_within(&probe, 2, 0.4))
                );
            }
        }
        assert_eq!(
            fallbacks(),
            before,
            "a search within the threshold needed a second pass"
        );
    }

    #[test]
    fn split_scans_equal_one_scan_ties_included() {
        for precision in PRECISIONS {
            let mut one = Gallery::with_precision(precision).with_scan_threads(1);
            let mut three = Gallery::with_precision(precision).with_scan_threads(3);
            for n in 0..1_000u64 {
                // Every template twice, so equal distances must keep row order.
                let face = random_face(n / 2);
                one.upsert(id(u128::from(n)), &face);
                three.upsert(id(u128::from(n)), &face);
            }
            for s in 0..20 {
                let probe = noisy(&random_face(s * 17), 77 + s, 0.5);
                assert_eq!(bits(&three.top_k(&probe, 7)), bits(&one.top_k(&probe, 7)));
            }
        }
    }

    /// Every pair within `max_distance`, by the f32 distance `within` itself reports.
    fn within_by_brute_force(
        g: &Gallery,
        probes: &[FaceEmbedding],
        max_distance: f32,
    ) -> Vec<(usize, ClientId, u32)> {
        let mut all = Vec::new();
        for (p, probe) in probes.iter().enumerate() {
            for (i, c) in g.ids.iter().enumerate() {
                let distance = 1.0 - dot(g.row(i), probe.as_slice());
                if distance <= max_distance {
                    all.push((p, *c, distance.to_bits()));
                }
            }
        }
        all.sort_unstable();
        all
    }

    fn sorted(found: Vec<(usize, ScoredCandidate)>) -> Vec<(usize, ClientId, u32)> {
        let mut found: Vec<_> = found
            .into_iter()
            .map(|(p, c)| (p, c.client_id, c.distance.to_bits()))
            .collect();
        found.sort_unstable();
        found
    }

    /// Faces whose energy is spread unevenly over the dimensions (`skew` 0 = evenly):
    /// the screen's bound leans on how much of a face lies past its scored prefix.
    fn skewed_face(seed: u64, skew: f32, toward_end: bool) -> FaceEmbedding {
        let v: Vec<f32> = random_face(seed)
            .as_slice()
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let at = if toward_end { i } else { D - 1 - i } as f32 / D as f32;
                x * (1.0 + skew * at * at)
            })
            .collect();
        FaceEmbedding::from_slice(&v).unwrap()
    }

    #[test]
    fn within_finds_exactly_the_pairs_inside_the_threshold_by_either_kernel() {
        // Probes around the threshold (0.4) of every gallery face, plus strangers; few
        // probes take the probe-by-probe scan, many take the screen, whose portable
        // kernel is forced for the second round.
        let distances = [0.0, 0.2, 0.3999, 0.4, 0.4001, 0.41, 0.6];
        for portable in [false, true] {
            kernel::PORTABLE_SCREEN.store(portable, std::sync::atomic::Ordering::SeqCst);
            for (skew, toward_end) in [(0.0, true), (30.0, true), (30.0, false)] {
                let faces: Vec<FaceEmbedding> =
                    (0..300).map(|s| skewed_face(s, skew, toward_end)).collect();
                for precision in PRECISIONS {
                    let mut g = Gallery::with_precision(precision).with_scan_threads(2);
                    for (n, f) in faces.iter().enumerate() {
                        g.upsert(id(n as u128), f);
                    }
                    for count in [5, SCREEN_MIN_PROBES + 9] {
                        let probes: Vec<FaceEmbedding> = (0..count)
                            .map(|p| {
                                let seed = 10_000 + p as u64;
                                if p % 8 == 7 {
                                    skewed_face(seed, skew, toward_end)
                                } else {
                                    at_distance(&faces[p * 37 % 300], seed, distances[p % 7])
                                }
                            })
                            .collect();
                        let want = within_by_brute_force(&g, &probes, 0.4);
                        assert!(want.len() >= count / 3, "the probes sit at the threshold");
                        assert_eq!(
                            sorted(g.within(&probes, 0.4)),
                            want,
                            "{precision:?}, {count} probes, skew {skew}, portable {portable}"
                        );
                    }
                }
            }
        }
        kernel::PORTABLE_SCREEN.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    #[test]
    fn close_pairs_are_every_pair_within_the_threshold_once() {
        let distances = [0.1, 0.3999, 0.4, 0.4001, 0.5];
        for portable in [false, true] {
            kernel::PORTABLE_SCREEN.store(portable, std::sync::atomic::Ordering::SeqCst);
            // Few templates take the row-by-row scan, many the screen.
            for size in [12u64, 300] {
                for precision in PRECISIONS {
                    let mut g = Gallery::with_precision(precision).with_scan_threads(2);
                    for n in 0..size {
                        let face = if n % 3 == 2 {
                            at_distance(&random_face(n - 1), 500 + n, distances[n as usize % 5])
                        } else {
                            random_face(n)
                        };
                        g.upsert(id(u128::from(n)), &face);
                    }
                    let mut want = Vec::new();
                    for i in 0..g.len() {
                        for j in i + 1..g.len() {
                            let distance = 1.0 - dot(g.row(j), g.row(i));
                            if distance <= 0.4 {
                                want.push((g.ids[i], g.ids[j], distance.to_bits()));
                            }
                        }
                    }
                    assert!(want.len() as u64 >= size / 6, "pairs sit at the threshold");
                    let mut got: Vec<_> = g
                        .close_pairs(0.4)
                        .into_iter()
                        .map(|(a, b, d)| (a, b, d.to_bits()))
                        .collect();
                    got.sort_unstable();
                    want.sort_unstable();
                    assert_eq!(got, want, "{precision:?}, {size}, portable {portable}");
                }
            }
        }
        kernel::PORTABLE_SCREEN.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Upsert(u8, u64),
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..=255, 0u64..1_000).prop_map(|(c, s)| Op::Upsert(c, s)),
            (0u8..=255).prop_map(Op::Remove),
        ]
    }

    proptest! {
        #[test]
        fn top_k_equals_a_full_sort(seeds in proptest::collection::vec(0u64..1_000_000, 1..60), probe in 0u64..1_000_000, k in 1usize..8) {
            let mut m = Gallery::new();
            for (n, s) in seeds.iter().enumerate() {
                m.upsert(id(n as u128), &random_face(*s));
            }
            let p = random_face(probe);
            let mut all: Vec<f32> = m.gallery().rows().into_iter().map(|r| 1.0 - r.iter().zip(p.as_slice()).map(|(a, b)| a * b).sum::<f32>()).collect();
            all.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let got: Vec<f32> = m.top_k(&p, k).iter().map(|c| c.distance).collect();
            prop_assert_eq!(got.len(), k.min(seeds.len()));
            for (g, w) in got.iter().zip(&all) {
                prop_assert!((g - w).abs() < 1e-4);
            }
        }

        #[test]
        fn upserts_and_removes_keep_every_representation_in_step(ops in proptest::collection::vec(op(), 0..300), probe in 0u64..1_000) {
            // No re-rank beyond the 4 asked for: the first pass's proof, and the second
            // pass where it fails, decide every answer.
            let mut galleries = PRECISIONS.map(|p| Gallery::with_precision(p).with_scan_threads(2).with_rerank(0));
            for op in &ops {
                for g in &mut galleries {
                    match *op {
                        Op::Upsert(c, s) => g.upsert(id(u128::from(c)), &random_face(s)),
                        Op::Remove(c) => { g.remove(id(u128::from(c))); }
                    }
                }
            }
            let p = random_face(probe);
            let exact = bits(&galleries[0].top_k(&p, 4));
            let near = bits(&galleries[0].top_k_within(&p, 4, 1.0));
            for g in &galleries {
                assert_in_sync(g);
                prop_assert_eq!(g.ids.clone(), galleries[0].ids.clone());
                prop_assert_eq!(bits(&g.top_k(&p, 4)), exact.clone());
                prop_assert_eq!(bits(&g.top_k_within(&p, 4, 1.0)), near.clone());
            }
        }
    }
}
