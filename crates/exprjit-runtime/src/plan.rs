//! Turns operand shapes and strides into an iteration plan: the broadcast
//! result shape, collapsed into as few dimensions as the strides allow, with
//! each operand's strides in that space and the kernel layout of its
//! innermost dimension.

use exprjit_codegen::Layout;
use exprjit_ir::shape::broadcast;

/// One operand as the planner sees it.
#[derive(Clone, Debug)]
pub struct Source<'s> {
    pub shape: &'s [usize],
    /// Strides in elements, one per dimension of `shape`.
    pub strides: &'s [isize],
    /// Periodic shifts `(axis of the result, shift)` it is read through.
    pub rolls: &'s [(usize, usize)],
}

/// How to walk the result: `dims` in row-major order (at least one), the
/// result being contiguous over them; `strides[k]` are operand k's strides
/// over `dims`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The result shape users see.
    pub shape: Vec<usize>,
    /// The collapsed iteration dimensions.
    pub dims: Vec<usize>,
    pub strides: Vec<Vec<isize>>,
    /// Each source's rolls over `dims` (`(dim, shift)`).
    pub rolls: Vec<Vec<(usize, usize)>>,
    /// Columns of the innermost dimension where a rolled source wraps
    /// around; row segments end there, so that within a segment every
    /// source is read linearly.
    pub wraps: Vec<usize>,
    /// Rows (indices of the second-innermost dimension) where a rolled
    /// source wraps around: blocks of rows ([`Plan::blocks`]) end before
    /// them.
    pub row_wraps: Vec<usize>,
    /// The number of result elements.
    pub len: usize,
}

/// Why sources have no plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// Source `k` does not broadcast with those before it.
    Broadcast(usize),
    /// The broadcast shape has more elements than a `usize` counts.
    TooLarge,
}

impl Plan {
    /// Broadcasts `sources` together.
    pub fn new(sources: &[Source<'_>]) -> Result<Plan, PlanError> {
        let shape = broadcast(sources.iter().map(|s| s.shape)).map_err(PlanError::Broadcast)?;
        let len = exprjit_ir::array::shape_len(&shape).ok_or(PlanError::TooLarge)?;
        // Strides of each source over the full broadcast shape (0 where
        // stretched or missing).
        let full: Vec<Vec<isize>> = sources
            .iter()
            .map(|s| {
                let offset = shape.len() - s.shape.len();
                let mut st = vec![0isize; shape.len()];
                for (j, (&d, &stride)) in s.shape.iter().zip(s.strides).enumerate() {
                    st[offset + j] = if d == 1 { 0 } else { stride };
                }
                st
            })
            .collect();
        let rolled = sources.iter().any(|s| !s.rolls.is_empty());
        if rolled {
            // Rolls are per axis: keep every dimension as it is.
            let mut dims = shape.clone();
            let mut strides = full;
            if dims.is_empty() {
                dims.push(1);
                for s in &mut strides {
                    s.push(0);
                }
            }
            let rolls: Vec<Vec<(usize, usize)>> =
                sources.iter().map(|s| s.rolls.to_vec()).collect();
            let last = dims.len() - 1;
            let wraps_along = |dim: Option<usize>| {
                let mut w: Vec<usize> = rolls
                    .iter()
                    .flatten()
                    .filter(|(d, s)| Some(*d) == dim && *s != 0)
                    .map(|(_, s)| *s)
                    .collect();
                w.sort_unstable();
                w.dedup();
                w
            };
            let wraps = wraps_along(Some(last));
            let row_wraps = wraps_along(last.checked_sub(1));
            return Ok(Plan {
                shape,
                dims,
                strides,
                rolls,
                wraps,
                row_wraps,
                len,
            });
        }
        // An empty result is one empty dimension: no element is read, so
        // no stride matters (and strides times extents, which may be
        // anything for empty views, are never formed).
        if len == 0 {
            return Ok(Plan {
                shape,
                dims: vec![0],
                strides: vec![vec![0]; sources.len()],
                rolls: vec![Vec::new(); sources.len()],
                wraps: Vec::new(),
                row_wraps: Vec::new(),
                len,
            });
        }
        // Collapse: drop size-1 dimensions, then merge a dimension into the
        // one after it when every source steps through both as one (the
        // product is within `isize` for a non-empty view that exists; it
        // is checked all the same).
        let keep: Vec<usize> = (0..shape.len()).filter(|&k| shape[k] != 1).collect();
        let mut dims: Vec<usize> = Vec::new();
        let mut strides: Vec<Vec<isize>> = vec![Vec::new(); sources.len()];
        for &k in &keep {
            let mergeable = !dims.is_empty()
                && full.iter().zip(&strides).all(|(f, s)| {
                    let last = s[s.len() - 1];
                    isize::try_from(shape[k])
                        .ok()
                        .and_then(|n| f[k].checked_mul(n))
                        == Some(last)
                });
            if mergeable {
                let n = dims.len() - 1;
                dims[n] *= shape[k];
                for (s, f) in strides.iter_mut().zip(&full) {
                    let m = s.len() - 1;
                    s[m] = f[k];
                }
            } else {
                dims.push(shape[k]);
                for (s, f) in strides.iter_mut().zip(&full) {
                    s.push(f[k]);
                }
            }
        }
        if dims.is_empty() {
            dims.push(if len == 0 { 0 } else { 1 });
            for s in &mut strides {
                s.push(0);
            }
        }
        Ok(Plan {
            shape,
            dims,
            strides,
            rolls: vec![Vec::new(); sources.len()],
            wraps: Vec::new(),
            row_wraps: Vec::new(),
            len,
        })
    }

    /// The length of the innermost dimension: one kernel call covers at
    /// most this many elements.
    pub fn inner(&self) -> usize {
        self.dims[self.dims.len() - 1]
    }

    /// The kernel layout of each source along the innermost dimension.
    pub fn layouts(&self) -> Vec<Layout> {
        self.strides
            .iter()
            .map(|s| layout_of_stride(s[s.len() - 1]))
            .collect()
    }
    /// Calls `f(index, out_start, count)` for each run of the flat result
    /// range `start..end` that lies in one row of the innermost dimension;
    /// `index` is the multi-index over `dims` of the run's first element.
    pub fn segments(&self, start: usize, end: usize, mut f: impl FnMut(&[usize], usize, usize)) {
        let inner = self.inner();
        if inner == 0 || start >= end {
            return;
        }
        let nd = self.dims.len();
        let mut index = vec![0usize; nd];
        let mut pos = start;
        while pos < end {
            let col = pos % inner;
            let row_end = self
                .wraps
                .iter()
                .find(|&&w| w > col)
                .copied()
                .unwrap_or(inner);
            let count = (row_end - col).min(end - pos);
            let mut r = pos / inner;
            for d in (0..nd - 1).rev() {
                index[d] = r % self.dims[d];
                r /= self.dims[d];
            }
            index[nd - 1] = col;
            f(&index, pos, count);
            pos += count;
        }
    }

    /// Like [`Plan::segments`], but hands whole rows over together: calls
    /// `f(index, out_start, count, rows)` for `rows` row segments of
    /// `count` elements, the first at multi-index `index` and flat result
    /// position `out_start`, each next one a row further along the
    /// second-innermost dimension (`inner` result elements later, at the
    /// same columns). Within a block every source is read linearly across
    /// rows too (blocks stop before a row where a rolled source wraps and
    /// at the end of the second-innermost dimension), so the reads of row
    /// `r` start `r * strides[k][nd - 2]` elements after those of the
    /// first. Partial rows at `start` and `end` come as blocks of one row.
    pub fn blocks(
        &self,
        start: usize,
        end: usize,
        mut f: impl FnMut(&[usize], usize, usize, usize),
    ) {
        let inner = self.inner();
        let nd = self.dims.len();
        if nd < 2 || inner == 0 {
            return self.segments(start, end, |index, pos, count| f(index, pos, count, 1));
        }
        let mut index = vec![0usize; nd];
        let mut pos = start;
        while pos < end {
            let col = pos % inner;
            let full = if col == 0 { (end - pos) / inner } else { 0 };
            if full == 0 {
                // A partial row: its segments one by one.
                let row_end = (pos - col + inner).min(end);
                self.segments(pos, row_end, |index, pos, count| f(index, pos, count, 1));
                pos = row_end;
                continue;
            }
            let mut r = pos / inner;
            for d in (0..nd - 1).rev() {
                index[d] = r % self.dims[d];
                r /= self.dims[d];
            }
            let row = index[nd - 2];
            let mut rows = full.min(self.dims[nd - 2] - row);
            if let Some(&w) = self.row_wraps.iter().find(|&&w| w > row) {
                rows = rows.min(w - row);
            }
            let mut c0 = 0;
            for c1 in self
                .wraps
                .iter()
                .copied()
                .filter(|&w| w < inner)
                .chain([inner])
            {
                if c1 > c0 {
                    index[nd - 1] = c0;
                    f(&index, pos + c0, c1 - c0, rows);
                    c0 = c1;
                }
            }
            pos += rows * inner;
        }
    }

    /// The element offset (relative to the base) of `index` for `strides`.
    pub fn offset(index: &[usize], strides: &[isize]) -> isize {
        index
            .iter()
            .zip(strides)
            .map(|(&i, &s)| i as isize * s)
            .sum()
    }

    /// [`Plan::offset`] for a source read through `rolls`: along a rolled
    /// dimension, element `i` comes from `i - shift` (modulo its length).
    pub fn offset_rolled(
        &self,
        index: &[usize],
        strides: &[isize],
        rolls: &[(usize, usize)],
    ) -> isize {
        let mut off = Plan::offset(index, strides);
        for &(d, shift) in rolls {
            let (i, len) = (index[d], self.dims[d]);
            let from = (i + len - shift) % len;
            off += (from as isize - i as isize) * strides[d];
        }
        off
    }
}

/// The kernel layout for an innermost stride.
pub(crate) fn layout_of_stride(stride: isize) -> Layout {
    match stride {
        0 => Layout::Broadcast,
        1 => Layout::Contiguous,
        _ => Layout::Strided,
    }
}

/// Row-major strides (in elements) of a contiguous array of `shape`.
pub(crate) fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut step = 1isize;
    for k in (0..shape.len()).rev() {
        strides[k] = step;
        step = step.saturating_mul(shape[k] as isize);
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src<'a>(shape: &'a [usize], strides: &'a [isize]) -> Source<'a> {
        Source {
            shape,
            strides,
            rolls: &[],
        }
    }

    #[test]
    fn rolled_rows_split_at_the_wrap() {
        let rolls = [(1usize, 1usize)];
        let s = Source {
            shape: &[2, 4],
            strides: &[4, 1],
            rolls: &rolls,
        };
        let p = Plan::new(&[s]).unwrap();
        assert_eq!(p.wraps, vec![1]);
        let mut seen = Vec::new();
        p.segments(0, 8, |index, start, count| {
            let off = p.offset_rolled(index, &p.strides[0], &p.rolls[0]);
            seen.push((off, start, count))
        });
        // Row 0: column 0 reads column 3; columns 1..4 read 0..3.
        assert_eq!(seen, vec![(3, 0, 1), (0, 1, 3), (7, 4, 1), (4, 5, 3)]);
    }

    #[test]
    fn contiguous_operands_collapse_to_one_dimension() {
        let p = Plan::new(&[src(&[4, 5, 6], &[30, 6, 1]), src(&[4, 5, 6], &[30, 6, 1])]).unwrap();
        assert_eq!(p.dims, vec![120]);
        assert_eq!(p.strides, vec![vec![1], vec![1]]);
        assert_eq!(p.layouts(), vec![Layout::Contiguous, Layout::Contiguous]);
    }

    #[test]
    fn broadcast_column_keeps_two_dimensions() {
        // a: (3, 1), b: (4,) -> (3, 4)
        let p = Plan::new(&[src(&[3, 1], &[1, 1]), src(&[4], &[1])]).unwrap();
        assert_eq!(p.shape, vec![3, 4]);
        assert_eq!(p.dims, vec![3, 4]);
        assert_eq!(p.strides, vec![vec![1, 0], vec![0, 1]]);
        assert_eq!(p.layouts(), vec![Layout::Broadcast, Layout::Contiguous]);
    }

    #[test]
    fn scalars_and_zero_size() {
        let p = Plan::new(&[src(&[], &[]), src(&[], &[])]).unwrap();
        assert_eq!((p.dims.clone(), p.len), (vec![1], 1));
        let p = Plan::new(&[src(&[0], &[1]), src(&[], &[])]).unwrap();
        assert_eq!(p.len, 0);
        assert!(Plan::new(&[src(&[3], &[1]), src(&[4], &[1])]).is_err());
    }

    #[test]
    fn reversed_view_is_strided() {
        let p = Plan::new(&[src(&[5], &[-1])]).unwrap();
        assert_eq!(p.layouts(), vec![Layout::Strided]);
    }

    #[test]
    fn segments_cover_the_range_row_by_row() {
        let p = Plan::new(&[src(&[3, 1], &[1, 1]), src(&[4], &[1])]).unwrap();
        let mut seen = Vec::new();
        p.segments(2, 11, |index, start, count| {
            let offs: Vec<isize> = p.strides.iter().map(|s| Plan::offset(index, s)).collect();
            seen.push((offs, start, count))
        });
        assert_eq!(
            seen,
            vec![(vec![0, 2], 2, 2), (vec![1, 0], 4, 4), (vec![2, 0], 8, 3)]
        );
    }

    /// Every block, expanded row by row, is exactly the run of segments
    /// `segments` gives, and each source's reads step by its row stride
    /// from one row of a block to the next.
    #[test]
    fn blocks_are_segments_grouped_by_rows() {
        let r2 = [(0usize, 1usize), (1, 6)];
        let r3 = [(1usize, 2usize), (2, 1), (0, 1)];
        let plans = [
            // The diffusion shape: rolls along both axes of a 2-D grid.
            Plan::new(&[
                src(&[5, 7], &[7, 1]),
                Source {
                    shape: &[5, 7],
                    strides: &[7, 1],
                    rolls: &r2,
                },
            ]),
            // 3-D, rolled along every axis.
            Plan::new(&[Source {
                shape: &[3, 4, 5],
                strides: &[20, 5, 1],
                rolls: &r3,
            }]),
            // A broadcast column against a row: no rolls, two dimensions.
            Plan::new(&[src(&[6, 1], &[1, 1]), src(&[5], &[1])]),
            // One dimension.
            Plan::new(&[src(&[9], &[-1])]),
        ];
        for p in plans {
            let p = p.unwrap();
            let nd = p.dims.len();
            for (start, end) in [(0, p.len), (3, p.len - 2), (7, 8), (0, 1), (5, 5)] {
                let mut want = Vec::new();
                p.segments(start, end, |index, pos, n| {
                    let offs: Vec<isize> = (0..p.strides.len())
                        .map(|k| p.offset_rolled(index, &p.strides[k], &p.rolls[k]))
                        .collect();
                    want.push((offs, pos, n));
                });
                let mut got = Vec::new();
                let mut most = 0;
                p.blocks(start, end, |index, pos, n, rows| {
                    assert!(rows >= 1);
                    most = most.max(rows);
                    let mut index = index.to_vec();
                    let first: Vec<isize> = (0..p.strides.len())
                        .map(|k| p.offset_rolled(&index, &p.strides[k], &p.rolls[k]))
                        .collect();
                    for r in 0..rows {
                        let offs: Vec<isize> = (0..p.strides.len())
                            .map(|k| p.offset_rolled(&index, &p.strides[k], &p.rolls[k]))
                            .collect();
                        if nd >= 2 {
                            for k in 0..offs.len() {
                                let step = p.strides[k][nd - 2];
                                assert_eq!(offs[k], first[k] + r as isize * step, "{p:?}");
                            }
                            index[nd - 2] += 1;
                        }
                        got.push((offs, pos + r * p.inner(), n));
                    }
                });
                // Blocks visit the columns of a row block before its next
                // rows; compare as sets of runs.
                got.sort_by_key(|g| g.1);
                assert_eq!(got, want, "{p:?} {start}..{end}");
                if nd >= 2 && (start, end) == (0, p.len) {
                    assert!(most > 1, "no block of several rows in {p:?}");
                }
            }
        }
    }
}
