//! A fuzz case (variables with dtypes, shapes and values, and an
//! expression) and the memory layouts its variables are handed over in:
//! slices, owned arrays, scalars, and strided views (gaps, reversed and
//! transposed axes, stride 0 along axes whose values repeat), each turned
//! into `exprjit::Vars` and printed as Rust for a reproducer.

use crate::expr::{Node, count};
use exprjit::internals::ir::{Array, DType, Data, Scalar};
use exprjit::{Operand, Vars, View};
use std::borrow::Cow;
use std::fmt::Write as _;

/// One variable: its logical values in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
    /// `count(shape)` values; empty for a zero-size or huge shape.
    pub data: Data,
    /// A shape whose element count overflows: a view with every stride 0
    /// over this one value (nothing is ever materialised).
    pub huge: Option<Scalar>,
    /// Axes along which the values repeat (so a stride-0 view can hold
    /// them).
    pub constant: Vec<bool>,
}

impl Var {
    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The values as an array (`None` for a huge variable).
    pub fn array(&self) -> Option<Array> {
        if self.huge.is_some() {
            return None;
        }
        Array::new(self.shape.clone(), self.data.clone())
    }
}

/// The expression: a tree, or text that may not parse (a mutated tree).
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Tree(Node),
    Text(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub vars: Vec<Var>,
    pub expr: Source,
}

impl Case {
    pub fn text(&self) -> String {
        match &self.expr {
            Source::Tree(n) => n.to_string(),
            Source::Text(t) => t.clone(),
        }
    }

    /// The tree (parsed back for a text that parses).
    pub fn tree(&self) -> Option<Node> {
        match &self.expr {
            Source::Tree(n) => Some(n.clone()),
            Source::Text(t) => exprjit::internals::syntax::parse(t)
                .ok()
                .map(|e| Node::from_ast(&e)),
        }
    }

    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|v| v.name == name)
    }

    pub fn bound(&self, name: &str) -> bool {
        self.var(name).is_some()
    }

    /// The type model's view of the variables.
    pub fn scope(&self) -> impl Fn(&str) -> Option<(DType, Vec<usize>)> + '_ {
        move |n| self.var(n).map(|v| (v.dtype, v.shape.clone()))
    }
}

/// How a variable is handed to exprjit.
#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    /// A slice (`View::from_slice`, or `View::with_shape` for n-d).
    Slice,
    /// An owned `Array` moved into the `Vars`.
    Owned,
    /// A 0-d variable as `Scalar`.
    Scalar,
    /// A strided view.
    View(ViewSpec),
}

/// A strided view's layout in a buffer of garbage.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewSpec {
    /// The axes from outermost to innermost in memory (identity: row-major).
    pub order: Vec<usize>,
    /// Elements between neighbours along the innermost axis (1: dense).
    pub gap: usize,
    pub reversed: Vec<bool>,
    /// Stride 0 along these axes (only where the values repeat).
    pub zero: Vec<bool>,
    /// Garbage elements before and after.
    pub pad: usize,
}

impl ViewSpec {
    pub fn plain(ndim: usize) -> ViewSpec {
        ViewSpec {
            order: (0..ndim).collect(),
            gap: 1,
            reversed: vec![false; ndim],
            zero: vec![false; ndim],
            pad: 0,
        }
    }

    /// Whether the spec fits a variable of this shape.
    pub fn fits(&self, v: &Var) -> bool {
        let n = v.shape.len();
        self.order.len() == n
            && self.reversed.len() == n
            && self.zero.len() == n
            && self.zero.iter().zip(&v.constant).all(|(z, c)| !*z || *c)
    }
}

/// A variable laid out in memory: the buffer, offset and strides of the
/// view over it.
#[derive(Clone, Debug)]
pub struct Laid {
    pub name: String,
    pub form: Form,
    pub data: Data,
    pub offset: usize,
    pub shape: Vec<usize>,
    pub strides: Vec<isize>,
}

/// A value no result should contain by accident, for the gaps of strided
/// buffers (a kernel that reads a gap is caught).
fn garbage(dtype: DType, i: usize) -> Scalar {
    match dtype {
        DType::Bool => Scalar::Bool(i.is_multiple_of(2)),
        DType::I32 => Scalar::I32(if i.is_multiple_of(2) {
            -0x5A5A_5A5B
        } else {
            0x3C3C_3C3D
        }),
        DType::I64 => Scalar::I64(if i.is_multiple_of(2) {
            -0x5A5A_5A5A_5A5A_5A5B
        } else {
            0x0123_4567_89AB_CDEF
        }),
        DType::F32 => Scalar::F32(if i.is_multiple_of(2) {
            f32::from_bits(0x7FC0_DEAD)
        } else {
            -1.2345e37
        }),
        DType::F64 => Scalar::F64(if i.is_multiple_of(2) {
            f64::from_bits(0x7FF8_0000_DEAD_BEEF)
        } else {
            -1.2345e300
        }),
    }
}

fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut s = vec![0isize; shape.len()];
    let mut step = 1isize;
    for k in (0..shape.len()).rev() {
        s[k] = step;
        step = step.saturating_mul(shape[k].max(1) as isize);
    }
    s
}

/// Lays `v` out as `form` says (a spec that does not fit is laid out as
/// a plain slice).
pub fn lay_out(v: &Var, form: &Form) -> Laid {
    let plain = |form: Form| Laid {
        name: v.name.clone(),
        form,
        data: v.data.clone(),
        offset: 0,
        shape: v.shape.clone(),
        strides: contiguous_strides(&v.shape),
    };
    if let Some(x) = v.huge {
        // Every stride 0: one element stands for all of them.
        let mut data = Data::zeros(v.dtype, 1);
        data.set(0, x);
        return Laid {
            name: v.name.clone(),
            form: Form::View(ViewSpec::plain(v.shape.len())),
            data,
            offset: 0,
            shape: v.shape.clone(),
            strides: vec![0; v.shape.len()],
        };
    }
    match form {
        Form::Slice | Form::Owned => plain(form.clone()),
        Form::Scalar if v.shape.is_empty() => plain(Form::Scalar),
        Form::Scalar => plain(Form::Slice),
        Form::View(spec) if !spec.fits(v) => plain(Form::Slice),
        Form::View(spec) if v.is_empty() && !v.shape.is_empty() => {
            // Nothing to lay out (the shape may be enormous): garbage only,
            // strides as given (no view of nothing is checked against them).
            let mut data = Data::zeros(v.dtype, 2 * spec.pad);
            for i in 0..data.len() {
                data.set(i, garbage(v.dtype, i));
            }
            let strides = contiguous_strides(&v.shape)
                .into_iter()
                .zip(&spec.reversed)
                .map(|(s, r)| if *r { s.saturating_neg() } else { s })
                .collect();
            Laid {
                name: v.name.clone(),
                form: form.clone(),
                data,
                offset: 0,
                shape: v.shape.clone(),
                strides,
            }
        }
        Form::View(spec) => {
            let n = v.shape.len();
            let total = v.len();
            // Strides in memory order, innermost first.
            let mut strides = vec![0isize; n];
            let mut step = spec.gap.max(1) as isize;
            for &axis in spec.order.iter().rev() {
                if spec.zero[axis] || v.shape[axis] <= 1 {
                    strides[axis] = if spec.zero[axis] { 0 } else { step };
                    continue;
                }
                strides[axis] = step;
                step = step.saturating_mul(v.shape[axis] as isize);
            }
            let mut offset = spec.pad as isize;
            for ((s, &len), &rev) in strides.iter_mut().zip(&v.shape).zip(&spec.reversed) {
                if rev && len > 0 {
                    offset += (len as isize - 1) * *s;
                    *s = -*s;
                }
            }
            let reach: isize = (0..n)
                .map(|k| (v.shape[k].saturating_sub(1) as isize) * strides[k].abs())
                .sum();
            let len = if total == 0 {
                2 * spec.pad
            } else {
                (reach + 1) as usize + 2 * spec.pad
            };
            let mut data = Data::zeros(v.dtype, len);
            for i in 0..len {
                data.set(i, garbage(v.dtype, i));
            }
            let mut index = vec![0usize; n];
            for flat in 0..total {
                if flat > 0 {
                    for d in (0..n).rev() {
                        index[d] += 1;
                        if index[d] < v.shape[d] {
                            break;
                        }
                        index[d] = 0;
                    }
                }
                let at = (0..n).fold(offset, |acc, k| acc + index[k] as isize * strides[k]);
                data.set(at as usize, v.data.get(flat));
            }
            Laid {
                name: v.name.clone(),
                form: form.clone(),
                data,
                offset: if total == 0 { 0 } else { offset as usize },
                shape: v.shape.clone(),
                strides,
            }
        }
    }
}

macro_rules! with_slice {
    ($data:expr, $s:ident => $body:expr) => {
        match $data {
            Data::Bool($s) => $body,
            Data::I32($s) => $body,
            Data::I64($s) => $body,
            Data::F32($s) => $body,
            Data::F64($s) => $body,
        }
    };
}

impl Laid {
    /// The operand exprjit sees.
    pub fn operand(&self) -> Operand<'_> {
        match &self.form {
            Form::Scalar if self.shape.is_empty() && !self.data.is_empty() => {
                Operand::Scalar(self.data.get(0))
            }
            Form::Owned => match Array::new(self.shape.clone(), self.data.clone()) {
                Some(a) => Operand::Array(Cow::Owned(a)),
                None => self.view(),
            },
            _ => self.view(),
        }
    }

    fn view(&self) -> Operand<'_> {
        let v =
            with_slice!(&self.data, s => View::strided(s, self.offset, &self.shape, &self.strides));
        match v {
            Ok(v) => Operand::View(v),
            // Unreachable for layouts built by `lay_out`; a scalar keeps
            // the run going and the reproducer shows the layout.
            Err(_) => Operand::Scalar(Scalar::Bool(false)),
        }
    }

    /// Rust that builds this operand, binding `let NAME = ...;`.
    pub fn rust(&self) -> String {
        let ty = rust_type(self.data.dtype());
        // A reproducer that did not shrink may be long; past this many
        // values it is cut (and says so).
        let vals = rust_values(&self.data, 512);
        let n = &self.name;
        match &self.form {
            Form::Scalar if self.shape.is_empty() && !self.data.is_empty() => {
                format!("let {n}: {ty} = {};", rust_scalar(self.data.get(0)))
            }
            Form::Owned => format!(
                "let {n} = Array::from_vec(vec!{:?}, vec![{vals}] as Vec<{ty}>).unwrap();",
                self.shape
            ),
            Form::Slice if self.shape.len() == 1 => {
                format!("let {n}: Vec<{ty}> = vec![{vals}];  // passed as &{n}")
            }
            _ => format!(
                "let {n}_buf: Vec<{ty}> = vec![{vals}];\nlet {n} = View::strided(&{n}_buf, {}, &{:?}, &{:?}).unwrap();",
                self.offset, self.shape, self.strides
            ),
        }
    }
}

/// `Vars` over laid-out variables.
pub fn vars(laid: &[Laid]) -> Vars<'_> {
    let mut v = Vars::new();
    for l in laid {
        v.set(l.name.as_str(), l.operand());
    }
    v
}

pub fn rust_type(d: DType) -> &'static str {
    match d {
        DType::Bool => "bool",
        DType::I32 => "i32",
        DType::I64 => "i64",
        DType::F32 => "f32",
        DType::F64 => "f64",
    }
}

/// A value as Rust source (special floats by name or bits).
pub fn rust_scalar(x: Scalar) -> String {
    match x {
        Scalar::Bool(b) => b.to_string(),
        Scalar::I32(i) => i.to_string(),
        Scalar::I64(i) => i.to_string(),
        Scalar::F32(v) if v.is_nan() && v.to_bits() == f32::NAN.to_bits() => "f32::NAN".into(),
        Scalar::F32(v) if v.is_nan() => format!("f32::from_bits({:#010x})", v.to_bits()),
        Scalar::F32(v) if v.is_infinite() => if v > 0.0 {
            "f32::INFINITY"
        } else {
            "f32::NEG_INFINITY"
        }
        .into(),
        Scalar::F32(v) => format!("{v:?}"),
        Scalar::F64(v) if v.is_nan() && v.to_bits() == f64::NAN.to_bits() => "f64::NAN".into(),
        Scalar::F64(v) if v.is_nan() => format!("f64::from_bits({:#018x})", v.to_bits()),
        Scalar::F64(v) if v.is_infinite() => if v > 0.0 {
            "f64::INFINITY"
        } else {
            "f64::NEG_INFINITY"
        }
        .into(),
        Scalar::F64(v) => format!("{v:?}"),
    }
}

/// Up to `max` values as Rust, comma-separated.
pub fn rust_values(d: &Data, max: usize) -> String {
    let mut s = String::new();
    for i in 0..d.len().min(max) {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&rust_scalar(d.get(i)));
    }
    if d.len() > max {
        let _ = write!(s, ", ... ({} values)", d.len());
    }
    s
}

/// The variable's logical values for the report.
pub fn describe_var(v: &Var) -> String {
    let shape = &v.shape;
    match v.huge {
        Some(x) => format!(
            "{} ({} {shape:?}, {} elements: every one {})",
            v.name,
            v.dtype,
            count(shape).map_or("overflowing".to_string(), |c| c.to_string()),
            rust_scalar(x)
        ),
        None => format!(
            "{} ({} {shape:?}) = [{}]",
            v.name,
            v.dtype,
            rust_values(&v.data, 64)
        ),
    }
}
