//! NumPy broadcasting: the common shape of several operand shapes.

/// The shape that `shapes` broadcast to under NumPy's rules (align at the
/// right; a dimension of 1 stretches). On failure, the index of the shape
/// that does not fit the ones before it.
pub fn broadcast<'a>(shapes: impl IntoIterator<Item = &'a [usize]>) -> Result<Vec<usize>, usize> {
    let mut out: Vec<usize> = Vec::new();
    for (i, shape) in shapes.into_iter().enumerate() {
        if shape.len() > out.len() {
            let mut grown = vec![1; shape.len() - out.len()];
            grown.extend_from_slice(&out);
            out = grown;
        }
        let offset = out.len() - shape.len();
        for (j, &d) in shape.iter().enumerate() {
            let o = &mut out[offset + j];
            if *o == d || d == 1 {
                continue;
            }
            if *o == 1 {
                *o = d;
            } else {
                return Err(i);
            }
        }
    }
    Ok(out)
}

/// Row-major element strides of `shape` as seen from a broadcast `target`
/// shape: 0 along dimensions that are stretched or missing.
pub fn broadcast_strides(shape: &[usize], target: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; target.len()];
    let offset = target.len() - shape.len();
    let mut step = 1;
    for j in (0..shape.len()).rev() {
        strides[offset + j] = if shape[j] == 1 { 0 } else { step };
        step *= shape[j];
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_examples() {
        let s = |v: &[&[usize]]| broadcast(v.iter().copied());
        assert_eq!(s(&[&[1000, 1], &[1000]]), Ok(vec![1000, 1000]));
        assert_eq!(s(&[&[], &[3]]), Ok(vec![3]));
        assert_eq!(s(&[&[0], &[1]]), Ok(vec![0]));
        assert_eq!(s(&[&[2, 0], &[2, 1]]), Ok(vec![2, 0]));
        assert_eq!(s(&[&[3], &[4]]), Err(1));
        assert_eq!(s(&[&[8, 1, 6, 1], &[7, 1, 5]]), Ok(vec![8, 7, 6, 5]));
        assert_eq!(s(&[]), Ok(vec![]));
    }

    #[test]
    fn strides_are_zero_where_stretched() {
        assert_eq!(broadcast_strides(&[3, 1], &[2, 3, 4]), vec![0, 1, 0]);
        assert_eq!(broadcast_strides(&[2, 3], &[2, 3]), vec![3, 1]);
    }
}
