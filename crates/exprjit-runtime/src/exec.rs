//! Runs one compiled kernel over a [`Plan`]: cuts the result into tiles,
//! each tile into row segments, and makes one kernel call per segment, on
//! the calling thread or on the pool.

use crate::plan::Plan;
use exprjit_codegen::{Kernel, Operand as KOperand, Output as KOutput, Rows};
use exprjit_ir::{DType, Error, ErrorKind};
use rayon::prelude::*;
use std::sync::Mutex;

/// One kernel input: its elements' bytes, dtype, the element offset of its
/// first logical element, and its strides over the plan's `dims`.
#[derive(Clone, Debug)]
pub(crate) struct Input<'a> {
    pub bytes: &'a [u8],
    pub dtype: DType,
    pub base: usize,
    pub strides: Vec<isize>,
    /// Rolls over the plan's dims (see [`Plan::offset_rolled`]).
    pub rolls: Vec<(usize, usize)>,
}

/// Where the kernel's results go: a contiguous buffer over the plan's
/// `len` elements, or in place into input `input`'s buffer.
pub(crate) enum Target<'a> {
    Bytes(&'a mut [u8]),
    Bools(&'a mut [bool]),
    /// The input at this index is read from, and written to, `buffer`.
    InPlace {
        input: usize,
        buffer: &'a mut [u8],
    },
}

impl Target<'_> {
    fn len_bytes(&self) -> usize {
        match self {
            Target::Bytes(b) => b.len(),
            Target::Bools(b) => b.len(),
            Target::InPlace { buffer, .. } => buffer.len(),
        }
    }
}

/// A disjoint piece of the target, for one tile.
enum Piece<'a> {
    Bytes(&'a mut [u8]),
    Bools(&'a mut [bool]),
    InPlace(usize, &'a mut [u8]),
}

/// Runs `kernel` over all of `plan` with `threads` threads and tiles of
/// `tile` elements. Outputs much larger than the last-level cache are
/// written through an L1-sized scratch buffer and streamed out with
/// non-temporal stores (see [`stream`]).
pub(crate) fn run(
    kernel: &Kernel,
    plan: &Plan,
    inputs: &[Input<'_>],
    target: Target<'_>,
    threads: usize,
    tile: usize,
) -> Result<(), Error> {
    // PERF: only one-dimensional plans stream. Through the scratch buffer,
    // a plan with rows (a stencil, a broadcast) would be cut into one call
    // per row segment and chunk; measured on the 4096 x 4096 diffusion step
    // that costs more (1.04 ns/cell vs 0.72 for plain stores) than the
    // saved write-allocate gains, and whole rows through a 256 KiB scratch
    // were slower than plain stores too.
    let streaming = matches!(target, Target::Bytes(_))
        && plan.dims.len() == 1
        && plan.len.saturating_mul(kernel.result_dtype().size()) >= stream::threshold_bytes();
    let size = kernel.result_dtype().size();
    if target.len_bytes() != plan.len * size {
        return Err(internal(format!(
            "target holds {} bytes for {} elements of {}",
            target.len_bytes(),
            plan.len,
            kernel.result_dtype()
        )));
    }
    if plan.len == 0 {
        return Ok(());
    }
    let tile = tile.max(1);
    let ntiles = plan.len.div_ceil(tile);
    let pieces: Vec<Piece<'_>> = match target {
        Target::Bytes(b) => b.chunks_mut(tile * size).map(Piece::Bytes).collect(),
        Target::Bools(b) => b.chunks_mut(tile).map(Piece::Bools).collect(),
        Target::InPlace { input, buffer } => buffer
            .chunks_mut(tile * size)
            .map(|c| Piece::InPlace(input, c))
            .collect(),
    };
    if threads <= 1 || ntiles == 1 {
        for (t, piece) in pieces.into_iter().enumerate() {
            crate::check_interrupt()?;
            run_tile(kernel, plan, inputs, t * tile, piece, streaming)?;
        }
        stream::fence();
        return Ok(());
    }
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    crate::pool::pool(threads).install(|| {
        pieces.into_par_iter().enumerate().for_each(|(t, piece)| {
            if let Err(e) = crate::check_interrupt()
                .and_then(|()| run_tile(kernel, plan, inputs, t * tile, piece, streaming))
                && let Ok(mut slot) = first_error.lock()
            {
                slot.get_or_insert(e);
            }
            stream::fence();
        });
    });
    match first_error.into_inner() {
        Ok(Some(e)) => Err(e),
        _ => Ok(()),
    }
}

/// One tile: the flat result range starting at `start` that `piece` holds.
fn run_tile(
    kernel: &Kernel,
    plan: &Plan,
    inputs: &[Input<'_>],
    start: usize,
    mut piece: Piece<'_>,
    streaming: bool,
) -> Result<(), Error> {
    let size = kernel.result_dtype().size();
    let count = match &piece {
        Piece::Bytes(b) | Piece::InPlace(_, b) => b.len() / size,
        Piece::Bools(b) => b.len(),
    };
    let nd = plan.dims.len();
    let mut result = Ok(());
    debug_assert!(inputs.iter().all(|i| i.strides.len() == nd));
    let mut operands: Vec<KOperand<'_>> = Vec::with_capacity(inputs.len());
    let mut offsets: Vec<usize> = Vec::with_capacity(inputs.len());
    // The operands of one streamed chunk, reused from chunk to chunk.
    let mut shifted: Vec<KOperand<'_>> = Vec::with_capacity(inputs.len());
    // Each input's step from one row to the next (in place: the output's).
    let row_strides: Vec<isize> = inputs
        .iter()
        .enumerate()
        .map(|(k, input)| match piece {
            Piece::InPlace(i, _) if i == k => plan.inner() as isize,
            _ if nd >= 2 => input.strides[nd - 2],
            _ => 0,
        })
        .collect();
    let mut block = |index: &[usize], pos: usize, n: usize, rows: usize| {
        if result.is_err() {
            return;
        }
        operands.clear();
        offsets.clear();
        for (k, input) in inputs.iter().enumerate() {
            let in_place = matches!(piece, Piece::InPlace(i, _) if i == k);
            if in_place {
                offsets.push(0);
                operands.push(KOperand::in_place(input.dtype));
                continue;
            }
            let abs = input.base as isize + plan.offset_rolled(index, &input.strides, &input.rolls);
            let Ok(abs) = usize::try_from(abs) else {
                result = Err(internal(format!("negative offset {abs} for input {k}")));
                return;
            };
            offsets.push(abs);
            operands.push(KOperand::new(
                input.bytes,
                input.dtype,
                abs,
                input.strides[nd - 1],
            ));
        }
        let lo = pos - start;
        if streaming && let Piece::Bytes(b) = &mut piece {
            // Through the scratch buffer, one L1-sized chunk at a time
            // (`plan.segments` gives one row per call here).
            let dst = &mut b[lo * size..(lo + n) * size];
            let chunk = stream::SCRATCH_BYTES / size;
            let mut done = 0;
            while done < n && result.is_ok() {
                let m = chunk.min(n - done);
                shifted.clear();
                shifted.extend(inputs.iter().zip(&offsets).map(|(input, &abs)| {
                    let stride = input.strides[nd - 1];
                    let at = abs as isize + done as isize * stride;
                    KOperand::new(input.bytes, input.dtype, at.max(0) as usize, stride)
                }));
                stream::with_scratch(|scratch| {
                    let tmp = &mut scratch[..m * size];
                    match kernel.run(&shifted, KOutput::Separate(tmp)) {
                        Ok(()) => stream::copy_nt(tmp, &mut dst[done * size..(done + m) * size]),
                        Err(e) => result = Err(internal(e.to_string())),
                    }
                });
                done += m;
            }
            return;
        }
        // The output elements from the first row's first to the last
        // row's last.
        let span = (rows - 1) * plan.inner() + n;
        let out = match &mut piece {
            Piece::Bytes(b) => KOutput::Separate(&mut b[lo * size..(lo + span) * size]),
            Piece::Bools(b) => KOutput::Bools(&mut b[lo..lo + span]),
            Piece::InPlace(i, b) => KOutput::InPlace {
                input: *i,
                buffer: &mut b[lo * size..(lo + span) * size],
            },
        };
        let ran = if rows == 1 {
            kernel.run(&operands, out)
        } else {
            let rows = Rows {
                count: rows,
                len: n,
                out_stride: plan.inner(),
                in_strides: &row_strides,
            };
            kernel.run_rows(&operands, out, rows)
        };
        if let Err(e) = ran {
            result = Err(internal(e.to_string()));
        }
    };
    if streaming {
        plan.segments(start, start + count, |index, pos, n| {
            block(index, pos, n, 1)
        });
    } else {
        plan.blocks(start, start + count, block);
    }
    result
}

pub(crate) fn internal(msg: String) -> Error {
    Error::new(ErrorKind::Internal(msg), None, "")
}

/// A failure to compile a kernel: the operating system refusing executable
/// memory is `TooLarge` (the user can free memory or shorten the
/// expression); everything else the code generator reports is a bug.
pub(crate) fn codegen_error(e: exprjit_codegen::Error) -> Error {
    match e.kind() {
        exprjit_codegen::ErrorKind::Memory(_) => Error::new(
            ErrorKind::TooLarge {
                what: "executable memory for the kernel".into(),
            },
            None,
            "",
        ),
        _ => internal(e.to_string()),
    }
}

/// Non-temporal ("streaming") stores for outputs larger than the caches.
///
/// An ordinary store first reads the output's cache line from memory
/// (write-allocate), so `o = a*b+c` moves 40 bytes per element instead of
/// 32. Cranelift has no non-temporal store, so the kernel writes an L1-sized
/// scratch buffer and [`copy_nt`] streams it to the output.
pub(crate) mod stream {
    use std::cell::RefCell;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The scratch buffer: a third of a typical 48 KiB L1 data cache.
    pub(crate) const SCRATCH_BYTES: usize = 16 * 1024;

    thread_local! {
        static SCRATCH: RefCell<Vec<u64>> = RefCell::new(vec![0; SCRATCH_BYTES / 8]);
    }

    static OVERRIDE: AtomicUsize = AtomicUsize::new(0);

    /// Sets the streaming threshold in bytes (0: back to automatic).
    pub(crate) fn set_threshold(bytes: usize) {
        OVERRIDE.store(bytes, Ordering::Relaxed);
    }

    /// Outputs of at least this many bytes are streamed: twice the
    /// last-level cache (sysfs), or 64 MiB when it is unknown.
    pub(crate) fn threshold_bytes() -> usize {
        match OVERRIDE.load(Ordering::Relaxed) {
            0 => {}
            n => return n,
        }
        static T: OnceLock<usize> = OnceLock::new();
        *T.get_or_init(|| {
            let l3 = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cache/index3/size")
                .ok()
                .and_then(|s| {
                    let s = s.trim();
                    s.strip_suffix('K')
                        .and_then(|k| k.parse::<usize>().ok())
                        .map(|k| k * 1024)
                        .or_else(|| {
                            s.strip_suffix('M')
                                .and_then(|m| m.parse::<usize>().ok())
                                .map(|m| m << 20)
                        })
                });
            l3.map_or(64 << 20, |b| 2 * b)
        })
    }

    /// Calls `f` with this thread's scratch buffer as bytes.
    pub(crate) fn with_scratch(f: impl FnOnce(&mut [u8])) {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            f(bytemuck::cast_slice_mut(&mut s[..]));
        });
    }

    /// Copies `src` to `dst` (same length) with non-temporal stores where
    /// the target has them.
    pub(crate) fn copy_nt(src: &[u8], dst: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
            let n = src.len().min(dst.len());
            let head = dst.as_ptr().align_offset(16).min(n);
            dst[..head].copy_from_slice(&src[..head]);
            let mut i = head;
            while i + 16 <= n {
                // SAFETY: i + 16 <= n keeps the 16 bytes in bounds of both
                // slices; `dst[i..]` is 16-byte aligned (the head was copied
                // up to the alignment and i advances by 16), as
                // `_mm_stream_si128` requires; the load is unaligned; SSE2
                // is part of the x86_64 baseline.
                unsafe {
                    let v = _mm_loadu_si128(src.as_ptr().add(i).cast::<__m128i>());
                    _mm_stream_si128(dst.as_mut_ptr().add(i).cast::<__m128i>(), v);
                }
                i += 16;
            }
            dst[i..n].copy_from_slice(&src[i..n]);
        }
        #[cfg(not(target_arch = "x86_64"))]
        dst.copy_from_slice(src);
    }

    /// Orders this thread's streaming stores before what follows (the
    /// caller reading the result, or another thread joining).
    pub(crate) fn fence() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a store fence has no preconditions.
        unsafe {
            std::arch::x86_64::_mm_sfence()
        };
    }
}
