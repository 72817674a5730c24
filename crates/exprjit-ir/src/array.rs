//! Owned n-dimensional arrays of one dtype, in row-major order: the inputs
//! and outputs of the reference interpreter and the results users get.

use crate::dtype::{DType, Scalar};

/// The elements of an [`Array`], one `Vec` per dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// An owned, contiguous, row-major array. A 0-d array (empty shape) holds
/// one element.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    shape: Vec<usize>,
    data: Data,
}

/// A Rust element type that maps to a [`DType`].
pub trait Element: Copy + Send + Sync + 'static {
    const DTYPE: DType;
    fn into_data(v: Vec<Self>) -> Data;
    fn slice(data: &Data) -> Option<&[Self]>;
    fn slice_mut(data: &mut Data) -> Option<&mut [Self]>;
    fn scalar(self) -> Scalar;
    /// The value of a scalar already of this dtype (other dtypes give the
    /// zero value; callers cast first).
    fn from_scalar(x: Scalar) -> Self;
}

macro_rules! element {
    ($t:ty, $d:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn into_data(v: Vec<$t>) -> Data {
                Data::$d(v)
            }
            fn slice(data: &Data) -> Option<&[$t]> {
                match data {
                    Data::$d(v) => Some(v),
                    _ => None,
                }
            }
            fn slice_mut(data: &mut Data) -> Option<&mut [$t]> {
                match data {
                    Data::$d(v) => Some(v),
                    _ => None,
                }
            }
            fn scalar(self) -> Scalar {
                Scalar::$d(self)
            }
            fn from_scalar(x: Scalar) -> $t {
                match x {
                    Scalar::$d(v) => v,
                    _ => <$t>::default(),
                }
            }
        }
    };
}
element!(bool, Bool);
element!(i32, I32);
element!(i64, I64);
element!(f32, F32);
element!(f64, F64);

/// The number of elements of a shape, or `None` if it overflows `usize`.
pub fn shape_len(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

impl Data {
    pub fn dtype(&self) -> DType {
        match self {
            Data::Bool(_) => DType::Bool,
            Data::I32(_) => DType::I32,
            Data::I64(_) => DType::I64,
            Data::F32(_) => DType::F32,
            Data::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Data::Bool(v) => v.len(),
            Data::I32(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::F32(v) => v.len(),
            Data::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `len` zeros (false) of `dtype`.
    pub fn zeros(dtype: DType, len: usize) -> Data {
        match dtype {
            DType::Bool => Data::Bool(vec![false; len]),
            DType::I32 => Data::I32(vec![0; len]),
            DType::I64 => Data::I64(vec![0; len]),
            DType::F32 => Data::F32(vec![0.0; len]),
            DType::F64 => Data::F64(vec![0.0; len]),
        }
    }

    /// [`Data::zeros`], or `None` when `len` elements of `dtype` cannot be
    /// allocated (more than `isize::MAX` bytes, or the allocator refuses).
    pub fn try_zeros(dtype: DType, len: usize) -> Option<Data> {
        fn zeros<T: Clone>(len: usize, zero: T) -> Option<Vec<T>> {
            let mut v = Vec::new();
            v.try_reserve_exact(len).ok()?;
            v.resize(len, zero);
            Some(v)
        }
        len.checked_mul(dtype.size())
            .filter(|&b| b <= isize::MAX as usize)?;
        Some(match dtype {
            DType::Bool => Data::Bool(zeros(len, false)?),
            DType::I32 => Data::I32(zeros(len, 0)?),
            DType::I64 => Data::I64(zeros(len, 0)?),
            DType::F32 => Data::F32(zeros(len, 0.0)?),
            DType::F64 => Data::F64(zeros(len, 0.0)?),
        })
    }

    pub fn get(&self, i: usize) -> Scalar {
        match self {
            Data::Bool(v) => Scalar::Bool(v[i]),
            Data::I32(v) => Scalar::I32(v[i]),
            Data::I64(v) => Scalar::I64(v[i]),
            Data::F32(v) => Scalar::F32(v[i]),
            Data::F64(v) => Scalar::F64(v[i]),
        }
    }

    /// Stores `x`, converted to this data's dtype.
    pub fn set(&mut self, i: usize, x: Scalar) {
        match self {
            Data::Bool(v) => v[i] = matches!(x.cast(DType::Bool), Scalar::Bool(true)),
            Data::I32(v) => v[i] = cast_to::<i32>(x),
            Data::I64(v) => v[i] = cast_to::<i64>(x),
            Data::F32(v) => v[i] = cast_to::<f32>(x),
            Data::F64(v) => v[i] = cast_to::<f64>(x),
        }
    }
}

/// `x` converted to `T` by [`Scalar::cast`].
pub fn cast_to<T: Element>(x: Scalar) -> T {
    T::from_scalar(x.cast(T::DTYPE))
}

impl Array {
    /// An array of `shape` over `data`; `None` if the lengths differ.
    pub fn new(shape: Vec<usize>, data: Data) -> Option<Array> {
        (shape_len(&shape) == Some(data.len())).then_some(Array { shape, data })
    }

    pub fn from_vec<T: Element>(shape: Vec<usize>, v: Vec<T>) -> Option<Array> {
        Array::new(shape, T::into_data(v))
    }

    /// A 1-d array.
    pub fn from_slice<T: Element>(v: &[T]) -> Array {
        Array {
            shape: vec![v.len()],
            data: T::into_data(v.to_vec()),
        }
    }

    /// A 0-d array holding `x`.
    pub fn scalar(x: Scalar) -> Array {
        let mut data = Data::zeros(x.dtype(), 1);
        data.set(0, x);
        Array {
            shape: Vec::new(),
            data,
        }
    }

    pub fn zeros(dtype: DType, shape: Vec<usize>) -> Option<Array> {
        let len = shape_len(&shape)?;
        Some(Array {
            shape,
            data: Data::zeros(dtype, len),
        })
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn data(&self) -> &Data {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut Data {
        &mut self.data
    }

    pub fn into_data(self) -> Data {
        self.data
    }

    /// The element at flat (row-major) index `i`.
    pub fn get(&self, i: usize) -> Scalar {
        self.data.get(i)
    }

    /// The elements as a slice of `T`, if `T` is this array's dtype.
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        T::slice(&self.data)
    }

    pub fn as_slice_mut<T: Element>(&mut self) -> Option<&mut [T]> {
        T::slice_mut(&mut self.data)
    }

    /// The elements as a `Vec<T>`, if `T` is this array's dtype.
    pub fn to_vec<T: Element>(&self) -> Option<Vec<T>> {
        self.as_slice::<T>().map(<[T]>::to_vec)
    }

    /// The one element of a 0-d (or 1-element) array.
    pub fn to_scalar(&self) -> Option<Scalar> {
        (self.len() == 1).then(|| self.get(0))
    }
}
