//! Runs one compiled kernel over a [`Plan`]: cuts the result into tiles,
//! each tile into row segments, and makes one kernel call per segment, on
//! the calling thread or on the pool.

use crate::plan::Plan;
use exprjit_codegen::{Kernel, Operand as KOperand, Output as KOutput};
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
/// `tile` elements.
pub(crate) fn run(
    kernel: &Kernel,
    plan: &Plan,
    inputs: &[Input<'_>],
    target: Target<'_>,
    threads: usize,
    tile: usize,
) -> Result<(), Error> {
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
            run_tile(kernel, plan, inputs, t * tile, piece)?;
        }
        return Ok(());
    }
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    crate::pool::pool(threads).install(|| {
        pieces.into_par_iter().enumerate().for_each(|(t, piece)| {
            if let Err(e) = run_tile(kernel, plan, inputs, t * tile, piece)
                && let Ok(mut slot) = first_error.lock()
            {
                slot.get_or_insert(e);
            }
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
    plan.segments(start, start + count, |index, pos, n| {
        if result.is_err() {
            return;
        }
        operands.clear();
        for (k, input) in inputs.iter().enumerate() {
            let in_place = matches!(piece, Piece::InPlace(i, _) if i == k);
            if in_place {
                operands.push(KOperand::in_place(input.dtype));
                continue;
            }
            let abs = input.base as isize + Plan::offset(index, &input.strides);
            let Ok(abs) = usize::try_from(abs) else {
                result = Err(internal(format!("negative offset {abs} for input {k}")));
                return;
            };
            operands.push(KOperand::new(
                input.bytes,
                input.dtype,
                abs,
                input.strides[nd - 1],
            ));
        }
        let lo = pos - start;
        let out = match &mut piece {
            Piece::Bytes(b) => KOutput::Separate(&mut b[lo * size..(lo + n) * size]),
            Piece::Bools(b) => KOutput::Bools(&mut b[lo..lo + n]),
            Piece::InPlace(i, b) => KOutput::InPlace {
                input: *i,
                buffer: &mut b[lo * size..(lo + n) * size],
            },
        };
        if let Err(e) = kernel.run(&operands, out) {
            result = Err(internal(e.to_string()));
        }
    });
    result
}

pub(crate) fn internal(msg: String) -> Error {
    Error::new(ErrorKind::Internal(msg), None, "")
}
