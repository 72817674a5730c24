//! The element types exprjit computes with, and single values of them.

use std::fmt;
use std::hash::{Hash, Hasher};

/// The element type of an array or of an IR value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Bool,
    I32,
    I64,
    F32,
    F64,
}

impl DType {
    pub const ALL: [DType; 5] = [DType::Bool, DType::I32, DType::I64, DType::F32, DType::F64];

    /// The name numpy uses (`float64`), for messages to users.
    pub fn numpy_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// The short name of the IR text form (`f64`).
    pub fn short_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// Parses either spelling (`f64` or `float64`).
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL
            .into_iter()
            .find(|d| d.short_name() == name || d.numpy_name() == name)
    }

    /// Size of one element in bytes (bool is one byte, 0 or 1, as in numpy).
    pub fn size(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            DType::Bool => Kind::Bool,
            DType::I32 | DType::I64 => Kind::Int,
            DType::F32 | DType::F64 => Kind::Float,
        }
    }

    pub fn is_int(self) -> bool {
        self.kind() == Kind::Int
    }

    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }

    /// NumPy's promotion of two array dtypes (`np.promote_types`),
    /// computed from kind and width: bool gives way to anything, within a
    /// kind the wider wins, and an integer meeting a float gives a float
    /// wide enough for the integer's values (twice its width, at most 8
    /// bytes: int32 with float32 is float64).
    pub fn promote(self, other: DType) -> DType {
        let wider = |a: DType, b: DType| if a.size() >= b.size() { a } else { b };
        let int_float =
            |i: DType, f: DType| DType::float_of_size(f.size().max((2 * i.size()).min(8)));
        match (self.kind(), other.kind()) {
            (Kind::Bool, _) => other,
            (_, Kind::Bool) => self,
            (Kind::Int, Kind::Int) | (Kind::Float, Kind::Float) => wider(self, other),
            (Kind::Int, Kind::Float) => int_float(self, other),
            (Kind::Float, Kind::Int) => int_float(other, self),
        }
    }

    /// The narrowest float of at least `size` bytes (float64 past 8).
    fn float_of_size(size: usize) -> DType {
        if size <= DType::F32.size() {
            DType::F32
        } else {
            DType::F64
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.numpy_name())
    }
}

/// The category of a dtype, ordered as NumPy orders them for promotion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Bool,
    Int,
    Float,
}

impl Kind {
    /// The dtype a Python scalar of this kind becomes on its own.
    pub fn default_dtype(self) -> DType {
        match self {
            Kind::Bool => DType::Bool,
            Kind::Int => DType::I64,
            Kind::Float => DType::F64,
        }
    }
}

/// One value of one dtype. Equality and hashing compare float bits, so that
/// `-0.0` and `0.0` (and NaNs with different payloads) stay distinct: the
/// passes may merge two constants only if they are the same bits.
#[derive(Clone, Copy, Debug)]
pub enum Scalar {
    Bool(bool),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
}

impl Scalar {
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::I32(_) => DType::I32,
            Scalar::I64(_) => DType::I64,
            Scalar::F32(_) => DType::F32,
            Scalar::F64(_) => DType::F64,
        }
    }

    /// The value's bits, zero-extended: the identity used by `Eq`/`Hash`.
    pub fn bits(self) -> u64 {
        match self {
            Scalar::Bool(b) => u64::from(b),
            Scalar::I32(x) => u64::from(x as u32),
            Scalar::I64(x) => x as u64,
            Scalar::F32(x) => u64::from(x.to_bits()),
            Scalar::F64(x) => x.to_bits(),
        }
    }

    /// Converts as numpy's `astype` does, with Rust's rules where numpy's are
    /// undefined: float to int truncates toward zero and saturates, NaN
    /// gives 0; int to int wraps; anything to bool is `!= 0` (NaN is true).
    pub fn cast(self, to: DType) -> Scalar {
        macro_rules! to {
            ($v:expr) => {
                match to {
                    DType::Bool => unreachable_bool(),
                    DType::I32 => Scalar::I32($v as i32),
                    DType::I64 => Scalar::I64($v as i64),
                    DType::F32 => Scalar::F32($v as f32),
                    DType::F64 => Scalar::F64($v as f64),
                }
            };
        }
        if to == DType::Bool {
            return Scalar::Bool(match self {
                Scalar::Bool(b) => b,
                Scalar::I32(x) => x != 0,
                Scalar::I64(x) => x != 0,
                Scalar::F32(x) => x != 0.0,
                Scalar::F64(x) => x != 0.0,
            });
        }
        match self {
            Scalar::Bool(b) => to!(u8::from(b)),
            Scalar::I32(x) => to!(x),
            Scalar::I64(x) => to!(x),
            Scalar::F32(x) => to!(x),
            Scalar::F64(x) => to!(x),
        }
    }

    pub fn is_nan(self) -> bool {
        match self {
            Scalar::F32(x) => x.is_nan(),
            Scalar::F64(x) => x.is_nan(),
            _ => false,
        }
    }
}

#[cold]
fn unreachable_bool() -> Scalar {
    // `cast` handles `to == Bool` before this macro runs.
    Scalar::Bool(false)
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Scalar) -> bool {
        self.dtype() == other.dtype() && self.bits() == other.bits()
    }
}

impl Eq for Scalar {}

impl Hash for Scalar {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.dtype().hash(state);
        self.bits().hash(state);
    }
}

impl fmt::Display for Scalar {
    /// Prints a value so that it parses back to the same bits (`{:?}` of
    /// Rust floats is the shortest round-tripping form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::I32(x) => write!(f, "{x}"),
            Scalar::I64(x) => write!(f, "{x}"),
            Scalar::F32(x) => write!(f, "{x:?}"),
            Scalar::F64(x) => write!(f, "{x:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_table_matches_numpy() {
        use DType::*;
        let cases = [
            (Bool, Bool, Bool),
            (Bool, I32, I32),
            (Bool, F32, F32),
            (I32, I64, I64),
            (I32, F32, F64),
            (I64, F32, F64),
            (I64, F64, F64),
            (F32, F64, F64),
            (F32, F32, F32),
        ];
        for (a, b, want) in cases {
            assert_eq!(a.promote(b), want, "{a} {b}");
            assert_eq!(b.promote(a), want, "{b} {a}");
        }
    }

    /// The laws numpy's promotion keeps, over every pair and triple.
    #[test]
    fn promotion_is_commutative_idempotent_and_associative() {
        for a in DType::ALL {
            assert_eq!(a.promote(a), a);
            for b in DType::ALL {
                assert_eq!(a.promote(b), b.promote(a), "{a} {b}");
                assert!(a.promote(b).kind() >= a.kind().max(b.kind()), "{a} {b}");
                for c in DType::ALL {
                    assert_eq!(
                        a.promote(b).promote(c),
                        a.promote(b.promote(c)),
                        "{a} {b} {c}"
                    );
                }
            }
        }
    }

    #[test]
    fn casts_saturate_and_send_nan_to_zero() {
        assert_eq!(Scalar::F64(f64::NAN).cast(DType::I32), Scalar::I32(0));
        assert_eq!(Scalar::F64(1e300).cast(DType::I64), Scalar::I64(i64::MAX));
        assert_eq!(Scalar::F64(-2.7).cast(DType::I32), Scalar::I32(-2));
        assert_eq!(Scalar::I64(1 << 40).cast(DType::I32), Scalar::I32(0));
        assert_eq!(Scalar::F64(f64::NAN).cast(DType::Bool), Scalar::Bool(true));
        assert_eq!(Scalar::Bool(true).cast(DType::F32), Scalar::F32(1.0));
    }

    #[test]
    fn signed_zeros_are_different_constants() {
        assert_ne!(Scalar::F64(0.0), Scalar::F64(-0.0));
        assert_eq!(Scalar::F64(f64::NAN), Scalar::F64(f64::NAN));
    }
}
