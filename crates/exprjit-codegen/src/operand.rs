//! Turns the caller's byte slices into checked kernel arguments: the
//! [`Layout`] a kernel is compiled for, the [`Operand`]s and [`Output`] of
//! one call, and safe conversions from typed slices to bytes.

use exprjit_ir::{DType, Element};

/// How the kernel walks one input, fixed when it is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Stride 1: the fast path, a pointer bumped by whole vectors.
    Contiguous,
    /// Any stride in elements (0 and negative allowed), given per call.
    Strided,
    /// Stride 0: the element is loaded once per call and splatted.
    Broadcast,
}

/// One input of one kernel call: the elements `offset + i * stride`
/// (`i` in `0..len`) of `bytes`, read as `dtype`.
#[derive(Clone, Copy, Debug)]
pub struct Operand<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) dtype: DType,
    pub(crate) offset: usize,
    pub(crate) stride: isize,
    /// Set by [`Operand::in_place`]: the data is the output buffer.
    pub(crate) in_place: bool,
}

impl<'a> Operand<'a> {
    /// `offset` and `stride` are in elements of `dtype`, not bytes.
    pub fn new(bytes: &'a [u8], dtype: DType, offset: usize, stride: isize) -> Self {
        Operand {
            bytes,
            dtype,
            offset,
            stride,
            in_place: false,
        }
    }

    /// A whole slice, stride 1.
    pub fn contiguous<T: Element + bytemuck::NoUninit>(s: &'a [T]) -> Self {
        Operand::new(as_bytes(s), T::DTYPE, 0, 1)
    }

    /// A slice read with a stride (in elements) from `offset`.
    pub fn strided<T: Element + bytemuck::NoUninit>(
        s: &'a [T],
        offset: usize,
        stride: isize,
    ) -> Self {
        Operand::new(as_bytes(s), T::DTYPE, offset, stride)
    }

    /// Element `index` of `s`, the same for every output element
    /// (stride 0, for [`Layout::Broadcast`]).
    pub fn broadcast<T: Element + bytemuck::NoUninit>(s: &'a [T], index: usize) -> Self {
        Operand::new(as_bytes(s), T::DTYPE, index, 0)
    }

    /// The placeholder for the input that [`Output::InPlace`] names: its
    /// data is the output buffer.
    pub fn in_place(dtype: DType) -> Self {
        Operand {
            bytes: &[],
            dtype,
            offset: 0,
            stride: 1,
            in_place: true,
        }
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }
}

/// Where one kernel call writes its `len` results (always contiguous).
#[derive(Debug)]
pub enum Output<'a> {
    /// A separate buffer of exactly `len * result_dtype.size()` bytes.
    Separate(&'a mut [u8]),
    /// A bool result written straight into Rust bools: sound because the
    /// kernel writes only the bytes 0 and 1 for bool results.
    Bools(&'a mut [bool]),
    /// In place: input `input` is read from `buffer` (contiguous, offset 0)
    /// and the result written to the same buffer. Sound because the kernel
    /// reads element `i` before it writes element `i`, and writes only
    /// element `i`. Requires the result dtype to equal that input's dtype,
    /// the input to be compiled [`Layout::Contiguous`], and
    /// `inputs[input]` to be [`Operand::in_place`].
    InPlace { input: usize, buffer: &'a mut [u8] },
}

impl<'a> Output<'a> {
    /// A typed output slice (bools: use [`Output::Bools`]).
    pub fn separate<T: Element + bytemuck::Pod>(s: &'a mut [T]) -> Self {
        Output::Separate(bytemuck::cast_slice_mut(s))
    }
}

impl Output<'_> {
    /// The output's length in bytes.
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Output::Separate(b) => b.len(),
            Output::Bools(b) => b.len(),
            Output::InPlace { buffer, .. } => buffer.len(),
        }
    }
}

/// How [`Kernel::run_rows`](crate::Kernel::run_rows) repeats one call over
/// several rows (all counts in elements).
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    /// How many rows.
    pub count: usize,
    /// Elements per row: the `len` of each call.
    pub len: usize,
    /// From the start of one output row to the next (`>= len`).
    pub out_stride: usize,
    /// Per operand, from one row's first element to the next row's.
    pub in_strides: &'a [isize],
}

/// The bytes of a typed slice (bools are one byte, 0 or 1).
pub fn as_bytes<T: Element + bytemuck::NoUninit>(s: &[T]) -> &[u8] {
    bytemuck::cast_slice(s)
}

/// The bytes of a typed slice, writable. Not for `bool`, which may not
/// hold other bytes than 0 and 1 (`bool` is not `Pod`).
pub fn as_bytes_mut<T: Element + bytemuck::Pod>(s: &mut [T]) -> &mut [u8] {
    bytemuck::cast_slice_mut(s)
}
