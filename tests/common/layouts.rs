//! Input layouts for the differential tests: the same values as a plain
//! buffer, strided inside a larger one, with the last axis reversed, or
//! behind a stride-0 leading axis.

use exprjit::{Array, Data, View};

/// How the inputs are laid out in memory for one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layout {
    /// Plain slices (0-d inputs as scalars).
    Contiguous,
    /// Every element `k` apart in a larger buffer (0-d inputs as 0-d arrays).
    Strided(usize),
    /// Last axis reversed (negative stride).
    Reversed,
    /// A new leading axis of length 2 with stride 0.
    Broadcast,
}

/// The elements of `a` as a typed buffer laid out for `layout`, and a view.
pub struct Laid {
    pub data: Data,
    pub offset: usize,
    pub shape: Vec<usize>,
    pub strides: Vec<isize>,
}

/// `a` laid out for `layout`; `ndim` is the case's largest rank (the
/// broadcast layout aligns every input to it).
pub fn lay_out(a: &Array, layout: Layout, ndim: usize) -> Laid {
    let shape = a.shape().to_vec();
    let n = a.len();
    let contiguous: Vec<isize> = {
        let mut s = vec![0isize; shape.len()];
        let mut step = 1isize;
        for k in (0..shape.len()).rev() {
            s[k] = step;
            step *= shape[k] as isize;
        }
        s
    };
    match layout {
        Layout::Contiguous => Laid {
            data: a.data().clone(),
            offset: 0,
            shape,
            strides: contiguous,
        },
        Layout::Strided(k) => {
            let mut data = Data::zeros(a.dtype(), n * k + 1);
            for i in 0..n {
                data.set(i * k + 1, a.get(i));
            }
            Laid {
                data,
                offset: 1,
                shape,
                strides: contiguous.iter().map(|s| s * k as isize).collect(),
            }
        }
        Layout::Reversed => {
            if shape.is_empty() || n == 0 {
                return lay_out(a, Layout::Contiguous, ndim);
            }
            // Store each row reversed; view it with a negative last stride.
            let last = shape[shape.len() - 1];
            let mut data = Data::zeros(a.dtype(), n);
            for i in 0..n {
                let (row, col) = (i / last, i % last);
                data.set(row * last + (last - 1 - col), a.get(i));
            }
            let mut strides = contiguous.clone();
            let nd = strides.len();
            strides[nd - 1] = -1;
            Laid {
                data,
                offset: last - 1,
                shape,
                strides,
            }
        }
        Layout::Broadcast => {
            // Align every input to the case's largest rank (as numpy
            // broadcasting would), then add a stride-0 leading axis.
            let pad = ndim - shape.len();
            let mut shape2 = vec![2];
            shape2.extend(std::iter::repeat_n(1, pad));
            shape2.extend(&shape);
            let mut strides = vec![0; 1 + pad];
            strides.extend(&contiguous);
            Laid {
                data: a.data().clone(),
                offset: 0,
                shape: shape2,
                strides,
            }
        }
    }
}

/// A view of the laid-out elements.
pub fn view(l: &Laid) -> View<'_> {
    let r = match &l.data {
        Data::Bool(v) => View::strided(v, l.offset, &l.shape, &l.strides),
        Data::I32(v) => View::strided(v, l.offset, &l.shape, &l.strides),
        Data::I64(v) => View::strided(v, l.offset, &l.shape, &l.strides),
        Data::F32(v) => View::strided(v, l.offset, &l.shape, &l.strides),
        Data::F64(v) => View::strided(v, l.offset, &l.shape, &l.strides),
    };
    r.expect("test views are in bounds")
}
