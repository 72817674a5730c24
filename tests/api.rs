//! The public API from a user's side: binding operands of every kind,
//! n-d broadcasting, outputs, prepared expressions, threads and errors.

use exprjit::{ArrayExt, DType, Engine, EngineChoice, ErrorKind, Options, Vars, View, ndarray};

#[test]
fn vars_macro_binds_slices_vectors_and_scalars() {
    let a = vec![1.0f64, 2.0, 3.0];
    let b = [10.0f64, 20.0, 30.0];
    let k = 0.5f64;
    let r = exprjit::evaluate("a*b + k", &exprjit::vars! {a, b, k}).unwrap();
    assert_eq!(r.to_vec::<f64>().unwrap(), vec![10.5, 40.5, 90.5]);
    let r = exprjit::evaluate("a + s", &exprjit::vars! {a, s = 2i32}).unwrap();
    assert_eq!(r.dtype(), DType::F64);
}

#[test]
fn ndarray_views_of_any_dimension_broadcast_like_numpy() {
    let a = ndarray::Array2::<f64>::from_shape_fn((1000, 1), |(i, _)| i as f64);
    let b = ndarray::Array1::<f64>::from_shape_fn(1000, |j| j as f64 * 0.001);
    let vars = Vars::new().with("a", &a).with("b", &b);
    let r = exprjit::evaluate("a + b", &vars).unwrap();
    assert_eq!(r.shape(), &[1000, 1000]);
    let nd = r.to_ndarray::<f64>().unwrap();
    assert_eq!(nd[[7, 9]], 7.0 + 9.0 * 0.001);
    // transposed, reversed and gapped views
    let m = ndarray::Array2::<f64>::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
    let t = m.t();
    let r = exprjit::evaluate("m * 1", &Vars::new().with("m", t)).unwrap();
    assert_eq!(r.to_ndarray::<f64>().unwrap(), t.to_owned().into_dyn());
    let rev = m.slice(ndarray::s![.., ..;-1]);
    let r = exprjit::evaluate("m + 0", &Vars::new().with("m", rev)).unwrap();
    assert_eq!(r.to_ndarray::<f64>().unwrap(), rev.to_owned().into_dyn());
    let gap = m.slice(ndarray::s![..;2, 1..;2]);
    let r = exprjit::evaluate("m - 1", &Vars::new().with("m", gap)).unwrap();
    assert_eq!(r.to_ndarray::<f64>().unwrap(), (&gap - 1.0).into_dyn());
}

#[test]
fn strided_and_zero_size_views() {
    let data: Vec<i64> = (0..20).collect();
    let every_third = View::strided(&data, 1, &[6], &[3]).unwrap();
    let r = exprjit::evaluate("x * 2", &Vars::new().with("x", every_third)).unwrap();
    assert_eq!(r.to_vec::<i64>().unwrap(), vec![2, 8, 14, 20, 26, 32]);
    let empty: Vec<f32> = Vec::new();
    let r = exprjit::evaluate("x + 1", &Vars::new().with("x", &empty)).unwrap();
    assert_eq!((r.shape(), r.len()), (&[0usize][..], 0));
    assert!(
        View::strided(&data, 0, &[8], &[3]).is_err(),
        "out-of-bounds view accepted"
    );
}

#[test]
fn evaluate_into_checks_length_and_dtype() {
    let a = vec![1.0f64, 2.0];
    let mut out = vec![0.0f32; 2];
    exprjit::evaluate_into("a * 2", &exprjit::vars! {a}, &mut out).unwrap();
    assert_eq!(out, vec![2.0, 4.0]);
    let mut short = vec![0.0f64; 1];
    let e = exprjit::evaluate_into("a * 2", &exprjit::vars! {a}, &mut short).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::OutputShape { .. }), "{e}");
    let mut ints = vec![0i64; 2];
    let e = exprjit::evaluate_into("a * 2", &exprjit::vars! {a}, &mut ints).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a * 2\nerror: an output of int64 cannot hold a float64 result"
    );
}

#[test]
fn in_place_equals_out_of_place_at_every_size() {
    for n in [0usize, 1, 7, 1000, 100_000] {
        let a: Vec<f64> = (0..n).map(|i| i as f64 * 0.25).collect();
        let b: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        let c: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        let want = exprjit::evaluate("a*b+c", &exprjit::vars! {a, b, c}).unwrap();
        for engine in [Engine::Fused, Engine::MultiPass(exprjit::Mode::InPlace)] {
            let mut inplace = a.clone();
            let o = Options {
                engine: EngineChoice::Force(engine),
                ..Options::default()
            };
            exprjit::evaluate_in_place_with("a*b+c", &exprjit::vars! {b, c}, "a", &mut inplace, &o)
                .unwrap();
            assert_eq!(inplace, want.to_vec::<f64>().unwrap(), "n={n} {engine:?}");
        }
    }
}

#[test]
fn prepared_expressions_skip_parsing() {
    let p = exprjit::compile("x*y + 1", &[("x", DType::F32), ("y", DType::F32)]).unwrap();
    assert_eq!(p.input_names(), vec!["x", "y"]);
    let x = vec![1.0f32, 2.0];
    let y = vec![3.0f32, 4.0];
    let r = p.run(&[(&x[..]).into(), (&y[..]).into()]).unwrap();
    assert_eq!(r.to_vec::<f32>().unwrap(), vec![4.0, 9.0]);
    let r = p.run_vars(&exprjit::vars! {x, y}).unwrap();
    assert_eq!(r.to_vec::<f32>().unwrap(), vec![4.0, 9.0]);
    assert!(p.run(&[(&x[..]).into()]).is_err());
}

#[test]
fn shape_errors_name_both_shapes_and_point_at_the_operand() {
    let a = vec![1.0f64; 3];
    let b = vec![1.0f64; 4];
    let e = exprjit::evaluate("a + b", &exprjit::vars! {a, b}).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a + b\n    ^\nerror: shapes [3] and [4] do not broadcast together"
    );
}

#[test]
fn threads_setting_and_big_calls_use_the_pool() {
    let n = 2_000_000;
    let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let o = Options {
        threads: Some(2),
        ..Options::default()
    };
    let (r, trace) = exprjit::evaluate_with("a * 0.5 + 1", &exprjit::vars! {a}, &o).unwrap();
    assert_eq!(trace.threads, 2);
    assert_eq!(trace.engine, Engine::Fused);
    assert_eq!(
        r.get(n - 1),
        exprjit::Scalar::F64((n - 1) as f64 * 0.5 + 1.0)
    );
    let small = vec![1.0f64; 10];
    let (_, trace) = exprjit::evaluate_with("small * 2", &exprjit::vars! {small}, &o).unwrap();
    assert_eq!(trace.threads, 1, "tiny calls stay on the calling thread");
}

#[test]
fn eight_threads_evaluate_different_expressions_concurrently() {
    let handles: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let x: Vec<f64> = (0..5000).map(|i| i as f64 + t as f64).collect();
                let expr = format!("x * {t} + sqrt(x) - {t}");
                for round in 0..50 {
                    let r = exprjit::evaluate(&expr, &exprjit::vars! {x}).unwrap();
                    let v = r.to_vec::<f64>().unwrap();
                    for (i, got) in v.iter().enumerate().step_by(997) {
                        let xi = x[i];
                        let want = xi * t as f64 + xi.sqrt() - t as f64;
                        assert_eq!(*got, want, "thread {t} round {round} element {i}");
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("no evaluation thread panicked");
    }
}
