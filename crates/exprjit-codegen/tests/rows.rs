//! `Kernel::run_rows`: several rows under one check give the same bits as
//! one `Kernel::run` per row, and every way a row set can reach outside its
//! operands or its output is refused before any code runs.

use exprjit_codegen::{Kernel, Layout, Operand, Options, Output, Rows, as_bytes};
use exprjit_ir::DType;

/// `a*b + c` over f64 with the given layouts.
fn kernel(layouts: [Layout; 3]) -> Kernel {
    let env = [("a", DType::F64), ("b", DType::F64), ("c", DType::F64)];
    let func = exprjit_ir::compile("a*b + c", &env).expect("compile expression");
    Kernel::compile(&func, &layouts, &Options::default()).expect("compile kernel")
}

fn data(n: usize, seed: f64) -> Vec<f64> {
    (0..n).map(|i| (i as f64 * 0.37 + seed).sin()).collect()
}

#[test]
fn rows_match_one_call_per_row() {
    // A 9 x 13 grid: `a` read by rows, `b` a column broadcast along each row
    // (stride 0 in a row, 1 across rows), `c` read transposed (stride 9).
    let (rows, cols) = (9usize, 13usize);
    let a = data(rows * cols, 0.1);
    let b = data(rows, 0.2);
    let c = data(rows * cols, 0.3);
    let k = kernel([Layout::Contiguous, Layout::Broadcast, Layout::Strided]);
    // Columns 2..11 of every row, written into a buffer with 13 per row.
    let (first, len) = (2usize, 9usize);
    let mut got = vec![f64::NAN; rows * cols];
    let ops = [
        Operand::new(as_bytes(&a), DType::F64, first, 1),
        Operand::new(as_bytes(&b), DType::F64, 0, 0),
        Operand::new(as_bytes(&c), DType::F64, first * rows, rows as isize),
    ];
    let strides = [cols as isize, 1, 1];
    k.run_rows(
        &ops,
        Output::separate(&mut got[first..]),
        Rows {
            count: rows,
            len,
            out_stride: cols,
            in_strides: &strides,
        },
    )
    .expect("run_rows");
    let mut want = vec![f64::NAN; rows * cols];
    for r in 0..rows {
        let ops = [
            Operand::new(as_bytes(&a), DType::F64, r * cols + first, 1),
            Operand::new(as_bytes(&b), DType::F64, r, 0),
            Operand::new(as_bytes(&c), DType::F64, first * rows + r, rows as isize),
        ];
        let at = r * cols + first;
        k.run(&ops, Output::separate(&mut want[at..at + len]))
            .expect("run");
    }
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&want));
    // The columns outside the rows are untouched.
    assert!(got[..first].iter().all(|x| x.is_nan()));
    assert!(
        got[cols * (rows - 1) + first + len..]
            .iter()
            .all(|x| x.is_nan())
    );
}

#[test]
fn negative_row_strides_read_upwards() {
    let a = data(20, 0.5);
    let k = kernel([Layout::Contiguous; 3]);
    // Rows 3, 2, 1, 0 of a 4 x 5 grid, read from the last one up.
    let ops = [Operand::new(as_bytes(&a), DType::F64, 15, 1); 3];
    let mut out = vec![0.0f64; 20];
    k.run_rows(
        &ops,
        Output::separate(&mut out),
        Rows {
            count: 4,
            len: 5,
            out_stride: 5,
            in_strides: &[-5; 3],
        },
    )
    .expect("run_rows");
    for r in 0..4 {
        for i in 0..5 {
            let x = a[(3 - r) * 5 + i];
            assert_eq!(out[r * 5 + i].to_bits(), (x * x + x).to_bits());
        }
    }
}

#[test]
fn row_sets_outside_their_memory_are_refused() {
    let a = data(20, 0.5);
    let k = kernel([Layout::Contiguous; 3]);
    let ops = [Operand::contiguous(&a); 3];
    let rows = |count, out_stride, s: &'static [isize]| Rows {
        count,
        len: 5,
        out_stride,
        in_strides: s,
    };
    let mut out = vec![0.0f64; 40];
    let mut run = |r: Rows<'_>| {
        k.run_rows(&ops, Output::separate(&mut out), r)
            .map_err(|e| e.to_string())
    };
    assert!(run(rows(4, 5, &[5; 3])).is_ok());
    // A fifth row would read elements 20..25 of 20.
    let e = run(rows(5, 5, &[5, 5, 5])).expect_err("out of bounds");
    assert!(e.contains("outside"), "{e}");
    // Rows going up from row 0.
    let e = run(rows(2, 5, &[5, -5, 5])).expect_err("negative");
    assert!(e.contains("outside"), "{e}");
    // Output too small (9 rows of 5 in 40), and overlapping output rows.
    let e = run(rows(9, 5, &[0; 3])).expect_err("output");
    assert!(e.contains("output"), "{e}");
    let e = run(rows(2, 4, &[0; 3])).expect_err("overlap");
    assert!(e.contains("overlap"), "{e}");
    // One row stride per operand.
    let e = run(rows(2, 5, &[0; 2])).expect_err("strides");
    assert!(e.contains("row strides"), "{e}");
}

#[test]
fn in_place_rows_follow_the_output() {
    let b = data(20, 0.7);
    let k = kernel([Layout::Contiguous; 3]);
    let mut buf = data(20, 0.9);
    let before = buf.clone();
    let ops = [
        Operand::in_place(DType::F64),
        Operand::contiguous(&b),
        Operand::contiguous(&b),
    ];
    let mut rows = Rows {
        count: 4,
        len: 5,
        out_stride: 5,
        in_strides: &[4, 5, 5],
    };
    let e = k
        .run_rows(
            &ops,
            Output::InPlace {
                input: 0,
                buffer: bytemuck_bytes(&mut buf),
            },
            rows,
        )
        .expect_err("in-place row stride differs from the output's");
    assert!(e.to_string().contains("in-place"), "{e}");
    rows.in_strides = &[5, 5, 5];
    k.run_rows(
        &ops,
        Output::InPlace {
            input: 0,
            buffer: bytemuck_bytes(&mut buf),
        },
        rows,
    )
    .expect("in place");
    for i in 0..20 {
        assert_eq!(buf[i].to_bits(), (before[i] * b[i] + b[i]).to_bits());
    }
}

fn bytemuck_bytes(v: &mut [f64]) -> &mut [u8] {
    exprjit_codegen::as_bytes_mut(v)
}
