//! `roll` and the diffusion step: every engine against the reference
//! interpreter and against a direct implementation of numpy's `roll`, plus
//! the error cases with their spans.

use exprjit::{Array, Data, Engine, EngineChoice, ErrorKind, Mode, Options, Scalar, Vars, View};

const DIFFUSION: &str = "u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)";

fn opts(engine: Engine, tile: usize, threads: usize) -> Options {
    Options {
        engine: EngineChoice::Force(engine),
        tile: Some(tile),
        threads: Some(threads),
        exact_threads: true,
        ..Options::default()
    }
}

fn bits_equal(a: &Array, b: &Array) -> bool {
    a.shape() == b.shape()
        && a.dtype() == b.dtype()
        && (0..a.len()).all(|i| match (a.get(i), b.get(i)) {
            (Scalar::F64(x), Scalar::F64(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            (x, y) => x == y,
        })
}

/// numpy's `np.roll(x, shift, axis)`, written directly.
fn np_roll(x: &Array, shift: i64, axis: i64) -> Array {
    let shape = x.shape().to_vec();
    let nd = shape.len() as i64;
    let axis = if axis < 0 { axis + nd } else { axis } as usize;
    let len = shape[axis] as i64;
    let inner: usize = shape[axis + 1..].iter().product();
    let mut data = Data::zeros(x.dtype(), x.len());
    for i in 0..x.len() {
        let along = (i / inner) % shape[axis];
        let to = (along as i64 + shift).rem_euclid(len) as usize;
        let j = i - along * inner + to * inner;
        data.set(j, x.get(i));
    }
    Array::new(shape, data).expect("same shape")
}

fn field(rows: usize, cols: usize) -> Vec<f64> {
    (0..rows * cols)
        .map(|i| ((i * 7919) % 1000) as f64 / 997.0 + if i % 17 == 0 { 1.0 } else { 0.0 })
        .collect()
}

#[test]
fn one_diffusion_step_equals_the_interpreter_at_every_size_tile_and_thread_count() {
    let mut misses = Vec::new();
    for (rows, cols) in [(1, 1), (2, 2), (3, 5), (7, 7), (64, 64), (65, 33), (1, 100)] {
        let u = field(rows, cols);
        let view = View::with_shape(&u, &[rows, cols]).unwrap();
        let vars = Vars::new().with("u", view).with("D", 1.0).with("dt", 0.1);
        let reference = exprjit::evaluate_with(DIFFUSION, &vars, &opts(Engine::Interpreter, 1, 1))
            .unwrap()
            .0;
        // The stencil by hand, in the expression's order of operations.
        let mut hand = vec![0.0; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                let at = |r: usize, c: usize| u[(r % rows) * cols + c % cols];
                let c = u[i * cols + j];
                let lap = (((at(i + rows - 1, j) + at(i + 1, j)) + at(i, j + cols - 1))
                    + at(i, j + 1))
                    - 4.0 * c;
                hand[i * cols + j] = c + 1.0 * 0.1 * lap;
            }
        }
        let hand = Array::from_vec(vec![rows, cols], hand).unwrap();
        if !bits_equal(&reference, &hand) {
            misses.push(format!(
                "{rows}x{cols}: interpreter differs from the hand-written stencil"
            ));
        }
        for engine in [
            Engine::Fused,
            Engine::MultiPass(Mode::Temporaries),
            Engine::MultiPass(Mode::InPlace),
        ] {
            for threads in [1, 2] {
                for tile in [1, 7, rows * cols + 1] {
                    match exprjit::evaluate_with(DIFFUSION, &vars, &opts(engine, tile, threads)) {
                        Ok((r, _)) if bits_equal(&r, &reference) => {}
                        Ok(_) => misses.push(format!(
                            "{rows}x{cols} {engine:?} {threads}t tile {tile}: differs"
                        )),
                        Err(e) => misses.push(format!("{rows}x{cols} {engine:?}: {e}")),
                    }
                }
            }
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

#[test]
fn roll_matches_numpy_on_1d_2d_and_3d() {
    let shapes: [&[usize]; 3] = [&[10], &[4, 5], &[3, 4, 5]];
    let mut misses = Vec::new();
    for shape in shapes {
        let n: usize = shape.iter().product();
        let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let arr = Array::from_vec(shape.to_vec(), x.clone()).unwrap();
        let nd = shape.len() as i64;
        for axis in -nd..nd {
            for shift in [-7i64, -1, 0, 1, 2, 5, 13] {
                let expr = format!("roll(x, {shift}, {axis})");
                let want = np_roll(&arr, shift, axis);
                let vars = Vars::new().with("x", View::with_shape(&x, shape).unwrap());
                for engine in [
                    Engine::Fused,
                    Engine::MultiPass(Mode::Temporaries),
                    Engine::Interpreter,
                ] {
                    match exprjit::evaluate_with(&expr, &vars, &opts(engine, 7, 2)) {
                        Ok((r, _)) if bits_equal(&r, &want) => {}
                        Ok((r, _)) => {
                            misses.push(format!("{shape:?} {expr} {engine:?}: {:?}", r.data()))
                        }
                        Err(e) => misses.push(format!("{shape:?} {expr} {engine:?}: {e}")),
                    }
                }
            }
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

#[test]
fn roll_composes_with_other_operators_and_broadcasting() {
    let a: Vec<f64> = (0..12).map(|i| i as f64).collect();
    let b: Vec<f64> = (0..4).map(|i| 10.0 * i as f64).collect();
    let a_arr = Array::from_vec(vec![3, 4], a.clone()).unwrap();
    let vars = Vars::new()
        .with("a", View::with_shape(&a, &[3, 4]).unwrap())
        .with("b", &b);
    for engine in [
        Engine::Fused,
        Engine::MultiPass(Mode::InPlace),
        Engine::Interpreter,
    ] {
        // roll of an expression = the expression of rolls
        let (r, _) =
            exprjit::evaluate_with("roll(a*2 + 1, 1, 1)", &vars, &opts(engine, 5, 1)).unwrap();
        let (s, _) =
            exprjit::evaluate_with("roll(a, 1, 1)*2 + 1", &vars, &opts(engine, 5, 1)).unwrap();
        assert!(bits_equal(&r, &s), "{engine:?}");
        // rolls compose, and a roll back is the identity
        let (r, _) =
            exprjit::evaluate_with("roll(roll(a, 1, 0), -1, 0) - a", &vars, &opts(engine, 5, 1))
                .unwrap();
        assert!(
            r.to_vec::<f64>().unwrap().iter().all(|&v| v == 0.0),
            "{engine:?}"
        );
        // a broadcast operand inside a roll: b is (4,), the sum is (3, 4)
        let (r, _) =
            exprjit::evaluate_with("roll(a + b, 1, 0)", &vars, &opts(engine, 5, 1)).unwrap();
        let plain = exprjit::evaluate_with("a + b", &vars, &opts(Engine::Interpreter, 1, 1))
            .unwrap()
            .0;
        assert!(bits_equal(&r, &np_roll(&plain, 1, 0)), "{engine:?}");
        // rolling a 1-d operand along its own axis while broadcast
        let (r, _) =
            exprjit::evaluate_with("a + roll(b, 1, 0)", &vars, &opts(engine, 5, 1)).unwrap();
        let b_rolled = np_roll(&Array::from_vec(vec![4], b.clone()).unwrap(), 1, 0);
        let want: Vec<f64> = (0..12)
            .map(|i| a[i] + b_rolled.to_vec::<f64>().unwrap()[i % 4])
            .collect();
        assert_eq!(r.to_vec::<f64>().unwrap(), want, "{engine:?}");
    }
    let _ = a_arr;
}

#[test]
fn roll_errors_point_at_the_argument() {
    let u = vec![1.0f64; 4];
    let k = 1i64;
    let vars = Vars::new()
        .with("u", View::with_shape(&u, &[2, 2]).unwrap())
        .with("k", k);
    let e = exprjit::evaluate("roll(u, k, 0)", &vars).unwrap_err();
    assert_eq!(
        e.to_string(),
        "roll(u, k, 0)\n        ^\nerror: roll's shift must be an integer constant\nhint: write an integer literal, e.g. roll(u, 1, 0)"
    );
    let e = exprjit::evaluate("roll(u, 1, 2.5)", &vars).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotConstant { .. }));
    assert_eq!(e.span().map(|s| (s.start, s.end)), Some((11, 14)));
    let e = exprjit::evaluate("u + roll(u, 1, 2)", &vars).unwrap_err();
    assert_eq!(
        e.to_string(),
        "u + roll(u, 1, 2)\n               ^\nerror: axis 2 is out of range for an array of 2 dimensions"
    );
    let e = exprjit::evaluate("roll(u, 1, -3)", &vars).unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::AxisOutOfRange { axis: -3, ndim: 2 }
    ));
    let e = exprjit::evaluate("roll(u, 1)", &vars).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::WrongArity { .. }), "{e}");
    // keyword spelling
    let r = exprjit::evaluate("roll(u, shift=1, axis=1)", &vars).unwrap();
    assert_eq!(r.shape(), &[2, 2]);
}

#[test]
fn rolled_in_place_evaluation_is_refused() {
    let mut u = vec![1.0f64, 2.0, 3.0, 4.0];
    let e = exprjit::evaluate_in_place("u + roll(u, 1, 0)", &Vars::new(), "u", &mut u).unwrap_err();
    assert_eq!(
        e.to_string(),
        "u + roll(u, 1, 0)\n         ^\nerror: 'u' is both the output and an input read at other positions\nhint: evaluate into a separate buffer and swap (double buffering)"
    );
    assert_eq!(u, vec![1.0, 2.0, 3.0, 4.0], "nothing written");
    // An unrolled in-place update is fine.
    exprjit::evaluate_in_place("u * 2", &Vars::new(), "u", &mut u).unwrap();
    assert_eq!(u, vec![2.0, 4.0, 6.0, 8.0]);
}
