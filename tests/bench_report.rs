//! The benchmark's JSON writer and table builder produce well-formed output
//! from a tiny real run (no timing is asserted).

#[path = "../benches/report.rs"]
mod report;

use report::Record;
use std::time::Instant;

fn tiny_run() -> Vec<Record> {
    let mut records = Vec::new();
    for n in [10usize, 1000] {
        let a = vec![0.5f64; n];
        let b = vec![2.0f64; n];
        let c = vec![1.0f64; n];
        let vars = exprjit::vars! {a, b, c};
        for (engine, e) in [
            ("fused", exprjit::Engine::Fused),
            (
                "multipass",
                exprjit::Engine::MultiPass(exprjit::Mode::Temporaries),
            ),
        ] {
            let opts = exprjit::Options {
                engine: exprjit::EngineChoice::Force(e),
                ..Default::default()
            };
            let t = Instant::now();
            let (r, _) = exprjit::evaluate_with("a*b+c", &vars, &opts).expect("evaluates");
            let s = t.elapsed().as_secs_f64();
            assert_eq!(r.get(n - 1), exprjit::Scalar::F64(2.0));
            records.push(Record {
                workload: "1 a*b+c".into(),
                dtype: "f64".into(),
                n,
                engine: engine.into(),
                threads: 1,
                median_s: s,
                min_s: s,
                spread: 0.5,
                samples: 1,
                bytes_per_elem: 32.0,
                gbps: 32.0 * n as f64 / s / 1e9,
                fraction_of_bandwidth: Some(0.5),
            });
        }
    }
    records
}

#[test]
fn json_is_well_formed_and_complete() {
    let records = tiny_run();
    let machine = vec![("cpu".to_string(), "test \"cpu\"\n".to_string())];
    let json = report::to_json(&machine, &records);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["machine"]["cpu"], "test \"cpu\"\n");
    let recs = v["records"].as_array().expect("records array");
    assert_eq!(recs.len(), records.len());
    for (r, j) in records.iter().zip(recs) {
        for key in [
            "workload",
            "dtype",
            "n",
            "engine",
            "threads",
            "median_s",
            "min_s",
            "bytes_per_elem",
            "gbps",
        ] {
            assert!(!j[key].is_null(), "missing {key}");
        }
        assert_eq!(j["n"].as_u64(), Some(r.n as u64));
        assert_eq!(j["noisy"].as_bool(), Some(true));
        assert!((j["median_s"].as_f64().unwrap() - r.median_s).abs() <= r.median_s * 1e-12);
    }
}

#[test]
fn workload_table_has_a_row_per_size_and_a_column_per_engine() {
    let records = tiny_run();
    let table = report::workload_table(&records, "1 a*b+c");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2 + 2, "header, rule, two sizes:\n{table}");
    assert!(lines[0].contains("fused 1t") && lines[0].contains("multipass 1t"));
    let columns = lines[0].matches('|').count();
    for l in &lines {
        assert_eq!(l.matches('|').count(), columns, "ragged row: {l}");
    }
    assert!(lines[2].starts_with("| 10 |"));
    assert!(lines[3].starts_with("| 1e3 |"));
    assert!(lines[2].contains('~'), "noisy samples are flagged");
}
