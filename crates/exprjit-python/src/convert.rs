//! Turns Python values into exprjit operands and results back into numpy
//! arrays: numpy arrays of bool, int32, int64, float32 and float64 are
//! viewed in place with any strides, narrower numeric dtypes are widened as
//! numpy's safe casting would, Python and numpy scalars and 0-d arrays
//! become scalars, and a result's buffer is handed to numpy uncopied.
//!
//! This module holds the binding's `unsafe` code: slices over numpy
//! memory. Every slice is built by [`ArrayInput::view`] or
//! [`OutArray::slice_mut`], after the checks their SAFETY comments cite.

use exprjit::{Array, DType, Data, Scalar, View};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::npyffi::NPY_ARRAY_WRITEABLE;
use numpy::{Element, PyArray, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyComplex, PyFloat, PyInt, PyModule};
use std::ops::Range;

/// A Python value ready to be bound: an array viewed in place, or a
/// scalar.
#[derive(Debug)]
pub(crate) enum Value<'py> {
    Array(ArrayInput<'py>),
    Scalar(Scalar),
}

/// A numpy array of one of exprjit's dtypes, in native byte order, with
/// every element aligned for its type: the form [`ArrayInput::view`] can
/// view without copying.
#[derive(Debug)]
pub(crate) struct ArrayInput<'py> {
    /// Keeps the array, and so its buffer, alive while views borrow it.
    owner: Bound<'py, PyUntypedArray>,
    pub(crate) dtype: DType,
    /// The address of element `(0, ..., 0)`.
    data: *const u8,
    pub(crate) shape: Vec<usize>,
    /// In elements; 0 along dimensions of length 1 (numpy may store any
    /// value there).
    pub(crate) strides: Vec<isize>,
    /// The elements spanned, from the lowest addressed to the highest.
    reach: Reach,
}

/// Why a value cannot be bound: the message and an optional hint.
#[derive(Debug)]
pub(crate) struct Unsupported {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Unsupported {
    fn new(message: String, hint: Option<&str>) -> Unsupported {
        Unsupported {
            message,
            hint: hint.map(str::to_string),
        }
    }
}

/// How a numpy dtype maps onto exprjit's.
enum Target {
    /// One of exprjit's own dtypes.
    Native(DType),
    /// Converted first: every value fits the wider dtype exactly (numpy's
    /// `safe` casting).
    Widen(DType),
    /// Not supported: why, and what to do instead.
    Reject(&'static str, &'static str),
}

/// The dtype policy, from numpy's kind character and item size.
fn target(kind: u8, size: usize) -> Target {
    match (kind, size) {
        (b'b', 1) => Target::Native(DType::Bool),
        (b'i', 4) => Target::Native(DType::I32),
        (b'i', 8) => Target::Native(DType::I64),
        (b'f', 4) => Target::Native(DType::F32),
        (b'f', 8) => Target::Native(DType::F64),
        (b'i' | b'u', 1 | 2) => Target::Widen(DType::I32),
        (b'u', 4) => Target::Widen(DType::I64),
        (b'f', 2) => Target::Widen(DType::F32),
        (b'u', 8) => Target::Reject(
            "no exprjit dtype holds every uint64 value",
            "convert it first: x.astype(np.int64) or x.astype(np.float64)",
        ),
        (b'f', _) => Target::Reject(
            "float64 cannot hold every value of this float type",
            "convert it first: x.astype(np.float64)",
        ),
        (b'c', _) => Target::Reject(
            "exprjit does not support complex numbers",
            "evaluate the real and imaginary parts separately",
        ),
        _ => Target::Reject(
            "exprjit evaluates bool, integer and float arrays only",
            "supported: bool, int32, int64, float32, float64 (int8, int16, uint8, uint16, uint32 and float16 are widened)",
        ),
    }
}

/// The exprjit dtype a numpy dtype (`kind`, item size) is bound as, or
/// why it cannot be.
pub(crate) fn bound_dtype(kind: u8, size: usize) -> Result<DType, Unsupported> {
    match target(kind, size) {
        Target::Native(d) | Target::Widen(d) => Ok(d),
        Target::Reject(why, hint) => Err(Unsupported::new(why.to_string(), Some(hint))),
    }
}

static NUMPY: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The `numpy` module.
pub(crate) fn numpy(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    NUMPY
        .get_or_try_init(py, || py.import("numpy").map(Bound::unbind))
        .map(|m| m.bind(py))
}

/// Converts `obj` for binding as a variable. `Ok(Err(_))` says why the
/// value cannot be bound; `Err` is a Python exception raised while
/// converting (by an object's `__array__`, or numpy's for a ragged list),
/// which the caller re-raises unchanged.
pub(crate) fn value<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Result<Value<'py>, Unsupported>> {
    if let Ok(a) = obj.cast::<PyUntypedArray>() {
        return array_value(py, a.clone());
    }
    // Python scalars take numpy's default dtypes (what np.asarray gives),
    // as numexpr binds them.
    if obj.is_exact_instance_of::<PyBool>() {
        return Ok(Ok(Value::Scalar(Scalar::Bool(obj.is_truthy()?))));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        return Ok(match obj.extract::<i64>() {
            Ok(v) => Ok(Value::Scalar(Scalar::I64(v))),
            Err(_) => Err(Unsupported::new(
                format!("the Python int {obj} does not fit int64"),
                Some("pass it as a float, or as a numpy array of the dtype you mean"),
            )),
        });
    }
    if obj.is_exact_instance_of::<PyFloat>() {
        return Ok(Ok(Value::Scalar(Scalar::F64(obj.extract::<f64>()?))));
    }
    if obj.is_instance_of::<PyComplex>() {
        return Ok(Err(Unsupported::new(
            "exprjit does not support complex numbers".into(),
            None,
        )));
    }
    // numpy scalars, int and float subclasses, lists, and anything with
    // __array__ or the buffer protocol: as numpy sees them.
    let a = numpy(py)?.call_method1("asarray", (obj,))?;
    match a.cast_into::<PyUntypedArray>() {
        Ok(a) => array_value(py, a),
        Err(_) => Ok(Err(Unsupported::new(
            "numpy.asarray did not return an array".into(),
            None,
        ))),
    }
}

/// The numpy dtype's name (`float16`), for messages.
fn dtype_name(a: &Bound<'_, PyUntypedArray>) -> String {
    a.dtype().to_string()
}

/// Converts a numpy array: viewed in place when it is one of exprjit's
/// dtypes, native and aligned; converted by numpy otherwise.
pub(crate) fn array_value<'py>(
    py: Python<'py>,
    a: Bound<'py, PyUntypedArray>,
) -> PyResult<Result<Value<'py>, Unsupported>> {
    let descr = a.dtype();
    let dtype = match target(descr.kind(), descr.itemsize()) {
        Target::Native(d) => d,
        Target::Widen(d) => {
            if a.ndim() == 0 {
                return Ok(Ok(Value::Scalar(scalar_of(&a, d)?)));
            }
            return converted(py, &a, d);
        }
        Target::Reject(why, hint) => {
            return Ok(Err(Unsupported::new(
                format!("{} ({})", why, dtype_name(&a)),
                Some(hint),
            )));
        }
    };
    if a.ndim() == 0 {
        return Ok(Ok(Value::Scalar(scalar_of(&a, dtype)?)));
    }
    match ArrayInput::new(a.clone(), dtype) {
        Layout::Far => Ok(Err(far())),
        Layout::View(input) if dtype != DType::Bool || input.bools_valid() => {
            Ok(Ok(Value::Array(input)))
        }
        Layout::View(_) => {
            // Bytes other than 0 and 1 (a uint8 array viewed as bool):
            // numpy reads them as True.
            let bytes = a.call_method1("view", ("uint8",))?;
            let fixed = numpy(py)?.call_method1("not_equal", (bytes, 0))?;
            match fixed.cast_into::<PyUntypedArray>() {
                Ok(f) => match ArrayInput::new(f, DType::Bool) {
                    Layout::View(i) => Ok(Ok(Value::Array(i))),
                    _ => Err(internal("numpy.not_equal gave an unaligned array")),
                },
                Err(_) => Err(internal("numpy.not_equal did not return an array")),
            }
        }
        // Byte-swapped, misaligned, or strides that are not a multiple of
        // the item size: copy into a native array once.
        Layout::Copy => converted(py, &a, dtype),
    }
}

/// Why an array whose strides reach beyond the address space (made with
/// `as_strided`) is refused: numpy could not read it either.
fn far() -> Unsupported {
    Unsupported::new(
        "its strides reach beyond the address space".into(),
        Some("an array made with numpy.lib.stride_tricks.as_strided must stay inside its buffer"),
    )
}

/// `a` converted by numpy to `dtype` (a new native, aligned array).
fn converted<'py>(
    _py: Python<'py>,
    a: &Bound<'py, PyUntypedArray>,
    dtype: DType,
) -> PyResult<Result<Value<'py>, Unsupported>> {
    let c = a.call_method1("astype", (dtype.numpy_name(),))?;
    let c = c
        .cast_into::<PyUntypedArray>()
        .map_err(|_| internal("astype did not return an array"))?;
    match ArrayInput::new(c, dtype) {
        Layout::View(i) => Ok(Ok(Value::Array(i))),
        _ => Err(internal("astype gave an array that cannot be viewed")),
    }
}

/// The element of a 0-d array (or of a one-element array) as `dtype`.
fn scalar_of(a: &Bound<'_, PyUntypedArray>, dtype: DType) -> PyResult<Scalar> {
    let item = a.call_method0("item")?;
    Ok(match dtype {
        DType::Bool => Scalar::Bool(item.extract()?),
        DType::I32 => Scalar::I32(item.extract()?),
        DType::I64 => Scalar::I64(item.extract()?),
        // Exact: the item came from a float32 or float16.
        DType::F32 => Scalar::F32(item.extract::<f64>()? as f32),
        DType::F64 => Scalar::F64(item.extract()?),
    })
}

/// A bug in the binding, as `exprjit.InternalError`.
pub(crate) fn internal(msg: &str) -> PyErr {
    Python::attach(|py| crate::errors::internal(py, msg))
}

/// The address of `a`'s element `(0, ..., 0)` and its flags.
fn raw_parts(a: &Bound<'_, PyUntypedArray>) -> (*mut u8, i32) {
    let p = a.as_array_ptr();
    // SAFETY: `a` is a live numpy array (the `Bound` holds a reference), so
    // `p` points to its `PyArrayObject`; reading two fields of it while we
    // hold the GIL races with nothing.
    unsafe { ((*p).fields.data.cast::<u8>(), (*p).fields.flags) }
}

/// How an array's memory can be read.
enum Layout<T> {
    /// In place, as `T`.
    View(T),
    /// Through a copy: a stride that is not a multiple of the item size, or
    /// a data pointer not aligned for the element type.
    Copy,
    /// Not at all: the elements' offsets overflow (`as_strided`).
    Far,
}

/// A view's shape and strides in elements (0 along dimensions of length 1)
/// and [`Reach`].
struct Geometry {
    shape: Vec<usize>,
    strides: Vec<isize>,
    reach: Reach,
}

/// The element offset (at most 0) of the lowest-addressed element relative
/// to the data pointer, and the number of elements from the lowest to the
/// highest addressed one (0 for an empty array). Both, times the item size,
/// fit `isize`.
#[derive(Clone, Copy, Debug)]
struct Reach {
    lo: isize,
    len: usize,
}

/// The geometry of `a` read as elements of `size` bytes.
fn layout(a: &Bound<'_, PyUntypedArray>, data: *const u8, size: usize) -> Layout<Geometry> {
    let shape = a.shape().to_vec();
    // Item size 0 (numpy's `V0`, `S0`): nothing to view in place.
    let Some(size_i) = isize::try_from(size).ok().filter(|&s| s > 0) else {
        return Layout::Copy;
    };
    let empty = shape.contains(&0);
    if !empty && !(data as usize).is_multiple_of(size) {
        return Layout::Copy;
    }
    let mut strides = Vec::with_capacity(shape.len());
    for (&n, &s) in shape.iter().zip(a.strides()) {
        if n <= 1 || empty {
            strides.push(0);
        } else if s % size_i == 0 {
            strides.push(s / size_i);
        } else {
            return Layout::Copy;
        }
    }
    let Some(reach) = reach(&shape, &strides, size) else {
        return Layout::Far;
    };
    Layout::View(Geometry {
        shape,
        strides,
        reach,
    })
}

/// See [`Reach`]; `None` if the offsets overflow. numpy's own arrays never
/// do, but `as_strided` builds any strides it is given.
fn reach(shape: &[usize], strides: &[isize], size: usize) -> Option<Reach> {
    if shape.contains(&0) {
        return Some(Reach { lo: 0, len: 0 });
    }
    let (mut lo, mut hi) = (0i128, 0i128);
    for (&n, &s) in shape.iter().zip(strides) {
        // At most 2^64 * 2^63 in magnitude: within i128.
        let r = (n as i128 - 1) * s as i128;
        if r < 0 {
            lo += r;
        } else {
            hi += r;
        }
    }
    let len = hi - lo + 1;
    let fits = |elements: i128| {
        elements
            .checked_mul(size as i128)
            .is_some_and(|b| isize::try_from(b).is_ok())
    };
    if !fits(lo) || !fits(len) {
        return None;
    }
    Some(Reach {
        lo: isize::try_from(lo).ok()?,
        len: usize::try_from(len).ok()?,
    })
}

impl<'py> ArrayInput<'py> {
    /// `a` as an input of `dtype` (whose item size `a` must have), or
    /// why it cannot be viewed: it must be copied first (byte-swapped,
    /// misaligned, odd strides) or cannot be read at all.
    fn new(a: Bound<'py, PyUntypedArray>, dtype: DType) -> Layout<ArrayInput<'py>> {
        let descr = a.dtype();
        if descr.itemsize() != dtype.size() || descr.is_native_byteorder() == Some(false) {
            return Layout::Copy;
        }
        let (data, _) = raw_parts(&a);
        match layout(&a, data, dtype.size()) {
            Layout::View(g) => Layout::View(ArrayInput {
                owner: a,
                dtype,
                data,
                shape: g.shape,
                strides: g.strides,
                reach: g.reach,
            }),
            Layout::Copy => Layout::Copy,
            Layout::Far => Layout::Far,
        }
    }

    /// See [`Reach`] (computed for the array as bound: reversing or
    /// flattening the axes keeps the same elements).
    fn reach(&self) -> (isize, usize) {
        (self.reach.lo, self.reach.len)
    }

    /// The bytes from the lowest to the highest addressed element.
    pub(crate) fn byte_range(&self) -> Range<usize> {
        let (lo, len) = self.reach();
        let size = self.dtype.size();
        // `reach` checked that both byte counts fit isize.
        let start = (self.data as usize).wrapping_add_signed(lo * size as isize);
        start..start.saturating_add(len * size)
    }

    /// The same elements as a C-contiguous array has: every element once,
    /// in row-major order.
    pub(crate) fn is_c_contiguous(&self) -> bool {
        let mut step = 1isize;
        for (&n, &s) in self.shape.iter().zip(&self.strides).rev() {
            if n > 1 && s != step {
                return false;
            }
            step *= n as isize;
        }
        true
    }

    /// Whether `data` is `other`'s buffer start (same first element).
    pub(crate) fn starts_at(&self, addr: *const u8) -> bool {
        std::ptr::eq(self.data, addr)
    }

    /// The Python array (for numpy calls).
    pub(crate) fn owner(&self) -> &Bound<'py, PyUntypedArray> {
        &self.owner
    }

    /// Checks that every byte the view spans is 0 or 1, so that it may be
    /// read as `bool`.
    fn bools_valid(&self) -> bool {
        let (lo, len) = self.reach();
        if len == 0 {
            return true;
        }
        // SAFETY: as in `view`: the `len` bytes from element `lo` lie in the
        // array's buffer, which `owner` keeps alive, and which we treat as
        // initialised (numpy reads it). `u8` has no invalid values.
        let bytes = unsafe { std::slice::from_raw_parts(self.data.offset(lo), len) };
        bytes.iter().all(|&b| b <= 1)
    }

    /// Reshapes to `ndim` dimensions by prepending length-1 axes, then
    /// reverses the axes (numpy's `.T`): a Fortran-ordered array becomes a
    /// C-ordered one.
    pub(crate) fn reverse_axes(&mut self, ndim: usize) {
        while self.shape.len() < ndim {
            self.shape.insert(0, 1);
            self.strides.insert(0, 0);
        }
        self.shape.reverse();
        self.strides.reverse();
    }

    /// Views the array as one dimension: only for a C-contiguous array.
    pub(crate) fn flatten(&mut self) {
        let n = self.shape.iter().product();
        self.shape = vec![n];
        self.strides = vec![if n > 1 { 1 } else { 0 }];
    }

    /// A zero-copy view of the array's elements.
    pub(crate) fn view(&self) -> PyResult<View<'_>> {
        match self.dtype {
            DType::Bool => self.view_as::<bool>(),
            DType::I32 => self.view_as::<i32>(),
            DType::I64 => self.view_as::<i64>(),
            DType::F32 => self.view_as::<f32>(),
            DType::F64 => self.view_as::<f64>(),
        }
    }

    fn view_as<T: exprjit::Elem>(&self) -> PyResult<View<'_>> {
        debug_assert_eq!(T::DTYPE, self.dtype);
        let (lo, len) = self.reach();
        let slice: &[T] = if len == 0 {
            &[]
        } else {
            // SAFETY: numpy guarantees that every element an array's data
            // pointer, shape and strides reach lies in the one buffer the
            // array (or its base) owns; the elements from the lowest to the
            // highest addressed one therefore lie in it too, gaps included.
            // `owner` keeps that buffer alive for the borrow of `self`
            // (numpy frees or resizes a buffer in place only when nothing
            // else references the array, and `owner` is a reference).
            // The memory is treated as initialised, as numpy itself reads
            // it (np.empty's bytes included). `ArrayInput::new` checked the
            // alignment of the data pointer and that every stride is a
            // whole number of elements, so every `T` in the slice is
            // aligned; `T` is the array's dtype (checked by itemsize and
            // kind), and for bool `bools_valid` checked every byte is 0 or
            // 1. Rust code never writes through these bytes: an `out`
            // buffer that overlaps this range is not sliced (see
            // `evaluate::Plan`). Other Python threads may write the array
            // while the GIL is released: the same contract as numpy's own
            // GIL-releasing loops, documented in the Python README.
            unsafe { std::slice::from_raw_parts(self.data.cast::<T>().offset(lo), len) }
        };
        View::strided(slice, lo.unsigned_abs(), &self.shape, &self.strides)
            .map_err(|e| internal(&e.to_string()))
    }
}

/// An `out` array exprjit can write directly: C-contiguous, writeable,
/// aligned, native, one of exprjit's dtypes.
#[derive(Debug)]
pub(crate) struct OutArray<'py> {
    owner: Bound<'py, PyUntypedArray>,
    pub(crate) dtype: DType,
    data: *mut u8,
    pub(crate) shape: Vec<usize>,
    pub(crate) strides: Vec<isize>,
}

/// What an `out` argument is.
#[derive(Debug)]
pub(crate) enum Out<'py> {
    /// Written by the kernel (possibly in the reversed-axes frame, see
    /// `reverse_axes`).
    Direct(OutArray<'py>),
    /// Any other writeable array: the result is copied in by numpy.
    ViaCopy(Bound<'py, PyUntypedArray>),
}

impl<'py> Out<'py> {
    /// Checks `obj` is a writeable numpy array and how it can be written;
    /// errors name `text`, the expression.
    pub(crate) fn new(obj: &Bound<'py, PyAny>, text: &str) -> PyResult<Out<'py>> {
        let py = obj.py();
        let a = obj.cast::<PyUntypedArray>().map_err(|_| {
            let name = obj
                .get_type()
                .name()
                .map_or_else(|_| "?".to_string(), |n| n.to_string());
            crate::errors::binding(
                py,
                crate::errors::Class::Type,
                "output_type",
                text,
                None,
                &format!("out must be a numpy array, not {name}"),
                None,
            )
        })?;
        let (data, flags) = raw_parts(a);
        if flags & NPY_ARRAY_WRITEABLE == 0 {
            return Err(crate::errors::binding(
                py,
                crate::errors::Class::Value,
                "output_read_only",
                text,
                None,
                "out is read-only",
                None,
            ));
        }
        let descr = a.dtype();
        let native = match target(descr.kind(), descr.itemsize()) {
            Target::Native(d) if descr.is_native_byteorder() != Some(false) => Some(d),
            _ => None,
        };
        let size = native.map_or(descr.itemsize(), |d| d.size());
        let geometry = match layout(a, data, size) {
            Layout::View(g) => Some(g),
            Layout::Copy => None,
            // numpy would write wherever the offsets wrap to.
            Layout::Far => {
                let u = far();
                return Err(crate::errors::binding(
                    py,
                    crate::errors::Class::UnsupportedValue,
                    "unsupported_value",
                    text,
                    None,
                    &format!("out: {}", u.message),
                    u.hint.as_deref(),
                ));
            }
        };
        Ok(match (native, geometry) {
            (Some(dtype), Some(g)) => Out::Direct(OutArray {
                owner: a.clone(),
                dtype,
                data,
                shape: g.shape,
                strides: g.strides,
            }),
            _ => Out::ViaCopy(a.clone()),
        })
    }

    pub(crate) fn object(&self) -> &Bound<'py, PyUntypedArray> {
        match self {
            Out::Direct(o) => &o.owner,
            Out::ViaCopy(a) => a,
        }
    }

    pub(crate) fn shape(&self) -> Vec<usize> {
        self.object().shape().to_vec()
    }
}

impl<'py> OutArray<'py> {
    pub(crate) fn is_c_contiguous(&self) -> bool {
        let mut step = 1isize;
        for (&n, &s) in self.shape.iter().zip(&self.strides).rev() {
            if n > 1 && s != step {
                return false;
            }
            step *= n as isize;
        }
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub(crate) fn data(&self) -> *const u8 {
        self.data
    }

    /// The bytes of the elements (C-contiguous arrays only).
    pub(crate) fn byte_range(&self) -> Range<usize> {
        let start = self.data as usize;
        start..start + self.len() * self.dtype.size()
    }

    /// The Python array.
    pub(crate) fn owner_any(&self) -> &Bound<'py, PyUntypedArray> {
        &self.owner
    }

    /// See [`ArrayInput::flatten`].
    pub(crate) fn flatten(&mut self) {
        let n = self.len();
        self.shape = vec![n];
        self.strides = vec![if n > 1 { 1 } else { 0 }];
    }

    /// See [`ArrayInput::reverse_axes`].
    pub(crate) fn reverse_axes(&mut self, ndim: usize) {
        while self.shape.len() < ndim {
            self.shape.insert(0, 1);
            self.strides.insert(0, 0);
        }
        self.shape.reverse();
        self.strides.reverse();
    }

    /// The elements as a mutable slice, for a C-contiguous array whose
    /// bytes no input view spans (the caller checks both).
    ///
    /// Bool arrays are zeroed first so that every byte is a valid `bool`.
    pub(crate) fn slice_mut<T: exprjit::Elem>(&mut self) -> PyResult<&mut [T]> {
        if T::DTYPE != self.dtype || !self.is_c_contiguous() {
            return Err(internal("out sliced as another dtype or layout"));
        }
        let len = self.len();
        if len == 0 {
            return Ok(&mut []);
        }
        if self.dtype == DType::Bool {
            // SAFETY: the `len` bytes from `data` are the elements of a
            // C-contiguous bool array (checked above), alive while `owner`
            // is, writeable (checked in `Out::new`); no slice over them
            // exists yet.
            unsafe { std::ptr::write_bytes(self.data, 0, len) };
        }
        // SAFETY: a C-contiguous array's `len` elements are exactly the
        // `len` consecutive `T`s from its data pointer, inside its buffer,
        // which `owner` keeps alive for the borrow of `self`; `T` is its
        // dtype and `layout` checked alignment; the memory is initialised
        // (numpy's contract, and bools were just zeroed). The array is
        // writeable (checked in `Out::new`). The exclusive borrow is sound
        // within exprjit because the caller slices no input whose bytes
        // overlap these (`evaluate::Plan` compares byte ranges and routes
        // overlapping calls through a fresh result); other Python threads
        // touching the array while the GIL is released is numpy's own
        // contract for GIL-releasing loops.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.data.cast::<T>(), len) })
    }
}

/// The most dimensions the `numpy` crate hands over (it panics beyond,
/// although numpy 2 allows 64): results with more are reshaped by numpy.
const NUMPY_CRATE_MAX_DIMS: usize = 32;

/// Hands an exprjit result to numpy without copying its buffer.
pub(crate) fn to_numpy(py: Python<'_>, a: Array) -> PyResult<Bound<'_, PyAny>> {
    let shape = a.shape().to_vec();
    match a.into_data() {
        Data::Bool(v) => owned(py, &shape, v),
        Data::I32(v) => owned(py, &shape, v),
        Data::I64(v) => owned(py, &shape, v),
        Data::F32(v) => owned(py, &shape, v),
        Data::F64(v) => owned(py, &shape, v),
    }
}

fn owned<'py, T: Element>(
    py: Python<'py>,
    shape: &[usize],
    v: Vec<T>,
) -> PyResult<Bound<'py, PyAny>> {
    if shape.len() > NUMPY_CRATE_MAX_DIMS {
        // One dimension, then numpy's reshape (a view of the same buffer;
        // numpy raises ValueError past its own limit).
        let n = v.len();
        let flat = ArrayD::from_shape_vec(IxDyn(&[n]), v).map_err(|e| internal(&e.to_string()))?;
        let flat = PyArray::from_owned_array(py, flat).into_any();
        return flat.call_method1("reshape", (shape.to_vec(),));
    }
    let a = ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| internal(&e.to_string()))?;
    Ok(PyArray::from_owned_array(py, a).into_any())
}
