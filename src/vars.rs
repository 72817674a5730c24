//! Binds variable names to array operands: borrowed slices, vectors,
//! scalars and n-d strided views, each with its dtype and shape.

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

impl Elements<'_> {
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

/// A Rust element type exprjit can read: `bool`, `i32`, `i64`, `f32`, `f64`.
pub trait Elem: Element {
    fn elements(s: &[Self]) -> Elements<'_>;
}

macro_rules! elem {
    ($t:ty, $d:ident) => {
        impl Elem for $t {
            fn elements(s: &[$t]) -> Elements<'_> {
                Elements::$d(s)
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
    };
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

/// Builds [`Vars`] from variables in scope, named as the variables:
/// `vars!{a, b, k = 2.5}`.
#[macro_export]
macro_rules! vars {
    () => { $crate::Vars::new() };
    ($($name:ident $(= $value:expr)?),+ $(,)?) => {{
        let mut v = $crate::Vars::new();
        $( $crate::vars!(@bind v, $name $(, $value)?); )+
        v
    }};
    (@bind $v:ident, $name:ident) => { $v.set(stringify!($name), &$name); };
    (@bind $v:ident, $name:ident, $value:expr) => { $v.set(stringify!($name), $value); };
}
