//! Binds variable names to array operands: borrowed slices, vectors,
//! scalars, owned arrays and n-d strided views (including `ndarray` views),
//! each with its dtype and shape.

use exprjit_ir::{Array, DType, Element, Scalar};
use std::borrow::Cow;

/// Borrowed elements of one dtype.
#[derive(Clone, Copy, Debug)]
pub enum Elements<'a> {
    Bool(&'a [bool]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    F32(&'a [f32]),
    F64(&'a [f64]),
}

impl<'a> Elements<'a> {
    pub fn dtype(&self) -> DType {
        match self {
            Elements::Bool(_) => DType::Bool,
            Elements::I32(_) => DType::I32,
            Elements::I64(_) => DType::I64,
            Elements::F32(_) => DType::F32,
            Elements::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Elements::Bool(v) => v.len(),
            Elements::I32(v) => v.len(),
            Elements::I64(v) => v.len(),
            Elements::F32(v) => v.len(),
            Elements::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements' bytes (bools are one byte, 0 or 1).
    pub fn bytes(&self) -> &'a [u8] {
        match *self {
            Elements::Bool(v) => bytemuck::cast_slice(v),
            Elements::I32(v) => bytemuck::cast_slice(v),
            Elements::I64(v) => bytemuck::cast_slice(v),
            Elements::F32(v) => bytemuck::cast_slice(v),
            Elements::F64(v) => bytemuck::cast_slice(v),
        }
    }

    fn get(&self, i: usize) -> Scalar {
        match self {
            Elements::Bool(v) => Scalar::Bool(v[i]),
            Elements::I32(v) => Scalar::I32(v[i]),
            Elements::I64(v) => Scalar::I64(v[i]),
            Elements::F32(v) => Scalar::F32(v[i]),
            Elements::F64(v) => Scalar::F64(v[i]),
        }
    }
}

/// Mutably borrowed elements of one dtype (an output buffer).
#[derive(Debug)]
pub enum ElementsMut<'a> {
    Bool(&'a mut [bool]),
    I32(&'a mut [i32]),
    I64(&'a mut [i64]),
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
}

/// A Rust element type exprjit can read: `bool`, `i32`, `i64`, `f32`, `f64`.
pub trait Elem: Element + bytemuck::NoUninit {
    fn elements(s: &[Self]) -> Elements<'_>;
    fn elements_mut(s: &mut [Self]) -> ElementsMut<'_>;
}

macro_rules! elem {
    ($t:ty, $d:ident) => {
        impl Elem for $t {
            fn elements(s: &[$t]) -> Elements<'_> {
                Elements::$d(s)
            }
            fn elements_mut(s: &mut [$t]) -> ElementsMut<'_> {
                ElementsMut::$d(s)
            }
        }
    };
}
elem!(bool, Bool);
elem!(i32, I32);
elem!(i64, I64);
elem!(f32, F32);
elem!(f64, F64);

/// An n-d view: element `(i0, i1, ...)` is `data[offset + sum(i_k * strides[k])]`.
/// Strides are in elements and may be zero or negative.
#[derive(Clone, Debug)]
pub struct View<'a> {
    data: Elements<'a>,
    offset: usize,
    shape: Vec<usize>,
    strides: Vec<isize>,
}

/// Why a view cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewError(pub String);

impl std::fmt::Display for ViewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ViewError {}

impl<'a> View<'a> {
    /// A 1-d contiguous view of a slice.
    pub fn from_slice<T: Elem>(s: &'a [T]) -> View<'a> {
        View {
            data: T::elements(s),
            offset: 0,
            shape: vec![s.len()],
            strides: vec![1],
        }
    }

    /// A row-major view of `s` with `shape`.
    pub fn with_shape<T: Elem>(s: &'a [T], shape: &[usize]) -> Result<View<'a>, ViewError> {
        let mut strides = vec![0isize; shape.len()];
        let mut step: usize = 1;
        for k in (0..shape.len()).rev() {
            strides[k] = isize::try_from(step).map_err(|_| ViewError("shape too large".into()))?;
            step = step
                .checked_mul(shape[k])
                .ok_or_else(|| ViewError("shape too large".into()))?;
        }
        if step != s.len() {
            return Err(ViewError(format!(
                "shape {shape:?} holds {step} elements, the slice has {}",
                s.len()
            )));
        }
        View::strided(s, 0, shape, &strides)
    }

    /// A general strided view; checks that every element lies in `s`.
    pub fn strided<T: Elem>(
        s: &'a [T],
        offset: usize,
        shape: &[usize],
        strides: &[isize],
    ) -> Result<View<'a>, ViewError> {
        if shape.len() != strides.len() {
            return Err(ViewError("shape and strides differ in length".into()));
        }
        let empty = shape.contains(&0);
        if !empty {
            let (mut lo, mut hi) = (offset as i128, offset as i128);
            for (&n, &st) in shape.iter().zip(strides) {
                let reach = (n as i128 - 1) * st as i128;
                if reach < 0 {
                    lo += reach;
                } else {
                    hi += reach;
                }
            }
            if lo < 0 || hi >= s.len() as i128 {
                return Err(ViewError(format!(
                    "view reaches elements {lo}..={hi} of a slice of {}",
                    s.len()
                )));
            }
        }
        Ok(View {
            data: T::elements(s),
            offset,
            shape: shape.to_vec(),
            strides: strides.to_vec(),
        })
    }

    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn elements(&self) -> Elements<'a> {
        self.data
    }

    /// Copies the view into a contiguous row-major array.
    pub fn to_array(&self) -> Array {
        let len = exprjit_ir::array::shape_len(&self.shape).unwrap_or(0);
        let mut data = exprjit_ir::Data::zeros(self.dtype(), len);
        let mut index = vec![0usize; self.shape.len()];
        for flat in 0..len {
            if flat > 0 {
                for d in (0..self.shape.len()).rev() {
                    index[d] += 1;
                    if index[d] < self.shape[d] {
                        break;
                    }
                    index[d] = 0;
                }
            }
            let pos = index
                .iter()
                .zip(&self.strides)
                .fold(self.offset as isize, |acc, (&i, &s)| acc + i as isize * s);
            data.set(flat, self.data.get(pos as usize));
        }
        Array::new(self.shape.clone(), data).unwrap_or_else(|| Array::scalar(Scalar::Bool(false)))
    }
}

/// An operand bound to a name: a view of caller memory, or an owned value
/// (a scalar, or an array the caller handed over).
#[derive(Clone, Debug)]
pub enum Operand<'a> {
    View(View<'a>),
    Scalar(Scalar),
    Array(Cow<'a, Array>),
}

impl Operand<'_> {
    pub fn dtype(&self) -> DType {
        match self {
            Operand::View(v) => v.dtype(),
            Operand::Scalar(s) => s.dtype(),
            Operand::Array(a) => a.dtype(),
        }
    }

    pub fn shape(&self) -> &[usize] {
        match self {
            Operand::View(v) => v.shape(),
            Operand::Scalar(_) => &[],
            Operand::Array(a) => a.shape(),
        }
    }

    /// A contiguous copy (the reference interpreter's input form).
    pub fn to_array(&self) -> Array {
        match self {
            Operand::View(v) => v.to_array(),
            Operand::Scalar(s) => Array::scalar(*s),
            Operand::Array(a) => a.as_ref().clone(),
        }
    }
}

/// Converts Rust values into operands: slices, vectors, arrays, views and
/// scalars.
pub trait IntoOperand<'a> {
    fn into_operand(self) -> Operand<'a>;
}

impl<'a, T: Elem> IntoOperand<'a> for &'a [T] {
    fn into_operand(self) -> Operand<'a> {
        Operand::View(View::from_slice(self))
    }
}

impl<'a, T: Elem> IntoOperand<'a> for &'a Vec<T> {
    fn into_operand(self) -> Operand<'a> {
        Operand::View(View::from_slice(self.as_slice()))
    }
}

impl<'a, T: Elem, const N: usize> IntoOperand<'a> for &'a [T; N] {
    fn into_operand(self) -> Operand<'a> {
        Operand::View(View::from_slice(self.as_slice()))
    }
}

impl<'a> IntoOperand<'a> for View<'a> {
    fn into_operand(self) -> Operand<'a> {
        Operand::View(self)
    }
}

impl<'a> IntoOperand<'a> for &'a Array {
    fn into_operand(self) -> Operand<'a> {
        Operand::Array(Cow::Borrowed(self))
    }
}

impl<'a> IntoOperand<'a> for Array {
    fn into_operand(self) -> Operand<'a> {
        Operand::Array(Cow::Owned(self))
    }
}

impl<'a> IntoOperand<'a> for Operand<'a> {
    fn into_operand(self) -> Operand<'a> {
        self
    }
}

impl<'a> IntoOperand<'a> for Scalar {
    fn into_operand(self) -> Operand<'a> {
        Operand::Scalar(self)
    }
}

macro_rules! scalar_operand {
    ($t:ty) => {
        impl<'a> IntoOperand<'a> for $t {
            fn into_operand(self) -> Operand<'a> {
                Operand::Scalar(self.scalar())
            }
        }
        impl<'a> IntoOperand<'a> for &$t {
            fn into_operand(self) -> Operand<'a> {
                Operand::Scalar((*self).scalar())
            }
        }
    };
}

impl<'a, T: Elem> From<&'a [T]> for Operand<'a> {
    fn from(s: &'a [T]) -> Operand<'a> {
        s.into_operand()
    }
}

impl<'a, T: Elem> From<&'a Vec<T>> for Operand<'a> {
    fn from(s: &'a Vec<T>) -> Operand<'a> {
        s.into_operand()
    }
}

impl<'a> From<View<'a>> for Operand<'a> {
    fn from(v: View<'a>) -> Operand<'a> {
        Operand::View(v)
    }
}

impl<'a> From<Scalar> for Operand<'a> {
    fn from(s: Scalar) -> Operand<'a> {
        Operand::Scalar(s)
    }
}
scalar_operand!(bool);
scalar_operand!(i32);
scalar_operand!(i64);
scalar_operand!(f32);
scalar_operand!(f64);

/// Names bound to operands, in insertion order. A later binding of the same
/// name replaces the earlier one.
#[derive(Clone, Debug, Default)]
pub struct Vars<'a> {
    entries: Vec<(Cow<'a, str>, Operand<'a>)>,
}

impl<'a> Vars<'a> {
    pub fn new() -> Vars<'a> {
        Vars::default()
    }

    /// Binds `name` (builder style).
    pub fn with(mut self, name: impl Into<Cow<'a, str>>, value: impl IntoOperand<'a>) -> Vars<'a> {
        self.set(name, value);
        self
    }

    /// Binds `name`, replacing an earlier binding.
    pub fn set(&mut self, name: impl Into<Cow<'a, str>>, value: impl IntoOperand<'a>) {
        let name = name.into();
        let op = value.into_operand();
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(e) => e.1 = op,
            None => self.entries.push((name, op)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Operand<'a>> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, o)| o)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Operand<'a>)> {
        self.entries.iter().map(|(n, o)| (n.as_ref(), o))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl exprjit_ir::Env for Vars<'_> {
    fn dtype_of(&self, name: &str) -> Option<DType> {
        self.get(name).map(Operand::dtype)
    }
    fn names(&self) -> Vec<String> {
        self.entries.iter().map(|(n, _)| n.to_string()).collect()
    }
}

#[cfg(feature = "ndarray")]
mod nd {
    //! Operands from `ndarray` arrays and views, results as `ndarray`
    //! arrays.

    use super::{Elem, IntoOperand, Operand, View};
    use exprjit_ir::Array;
    use ndarray::{ArrayBase, ArrayD, ArrayView, Dimension, IxDyn, RawData};
    use std::borrow::Cow;

    /// A view of an ndarray view: zero-copy when its elements are contiguous
    /// in memory in any order (C or Fortran order, transposed, reversed);
    /// a view with gaps between its elements (e.g. `s![..;2]`) is copied
    /// once, because a slice over the gaps could cover memory that is not
    /// initialised.
    fn operand_of<'a, T: Elem, D: Dimension>(v: ArrayView<'a, T, D>) -> Operand<'a> {
        let shape = v.shape().to_vec();
        let strides = v.strides().to_vec();
        let first = v.as_ptr();
        match v.to_slice_memory_order() {
            Some(slice) => {
                // The logical first element's index in the memory-order slice.
                let offset =
                    (first as usize - slice.as_ptr() as usize) / std::mem::size_of::<T>().max(1);
                match View::strided(slice, offset, &shape, &strides) {
                    Ok(view) => Operand::View(view),
                    Err(_) => copy(v),
                }
            }
            None => copy(v),
        }
    }

    fn copy<T: Elem, D: Dimension>(v: ArrayView<'_, T, D>) -> Operand<'static> {
        let shape = v.shape().to_vec();
        let data: Vec<T> = v.iter().copied().collect();
        match Array::from_vec(shape, data) {
            Some(a) => Operand::Array(Cow::Owned(a)),
            None => Operand::Array(Cow::Owned(Array::from_slice::<T>(&[]))),
        }
    }

    impl<'a, T: Elem, D: Dimension> IntoOperand<'a> for ArrayView<'a, T, D> {
        fn into_operand(self) -> Operand<'a> {
            operand_of(self)
        }
    }

    impl<'a, T: Elem, S, D> IntoOperand<'a> for &'a ArrayBase<S, D>
    where
        S: ndarray::Data<Elem = T> + RawData<Elem = T>,
        D: Dimension,
    {
        fn into_operand(self) -> Operand<'a> {
            operand_of(self.view())
        }
    }

    /// Conversion of results into `ndarray` arrays.
    pub trait ArrayExt {
        /// The result as an `ndarray::ArrayD<T>`, if `T` is its dtype.
        fn to_ndarray<T: Elem>(&self) -> Option<ArrayD<T>>;
    }

    impl ArrayExt for Array {
        fn to_ndarray<T: Elem>(&self) -> Option<ArrayD<T>> {
            let v = self.to_vec::<T>()?;
            ArrayD::from_shape_vec(IxDyn(self.shape()), v).ok()
        }
    }
}

#[cfg(feature = "ndarray")]
pub use nd::ArrayExt;
