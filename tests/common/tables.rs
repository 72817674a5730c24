//! Reads `tests/testdata/*.toml` into cases (an expression, its inputs, and
//! the expected result or error) and checks an engine against them.
//!
//! The format is described in `tests/testdata/README.md`.

use exprjit::{Array, DType, Data, Error, ErrorKind, Scalar};
use std::path::{Path, PathBuf};

/// One row of a table.
#[derive(Clone, Debug)]
pub struct Case {
    pub file: String,
    pub index: usize,
    pub name: Option<String>,
    pub expr: String,
    pub vars: Vec<(String, Array)>,
    pub expect: Expect,
}

#[derive(Clone, Debug)]
pub enum Expect {
    Value {
        want: Array,
        ulps: u64,
    },
    Error {
        kind: String,
        span: Option<(u32, u32)>,
    },
}

impl Case {
    pub fn label(&self) -> String {
        format!(
            "{}#{} `{}`{}",
            self.file,
            self.index,
            self.expr,
            self.name
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        )
    }
}

pub fn testdata_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("testdata")
}

/// All cases of all tables, in file order.
pub fn load_all() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(testdata_dir())
        .expect("tests/testdata exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        cases.extend(load_file(&f));
    }
    cases
}

pub fn load_file(path: &Path) -> Vec<Case> {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).expect("table readable");
    let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{file}: {e}"));
    let rows = table
        .get("case")
        .and_then(|c| c.as_array())
        .unwrap_or_else(|| panic!("{file}: no [[case]] rows"));
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let row = row
                .as_table()
                .unwrap_or_else(|| panic!("{file}#{i}: not a table"));
            parse_case(&file, i, row).unwrap_or_else(|e| panic!("{file}#{i}: {e}"))
        })
        .collect()
}

const KEYS: [&str; 6] = ["expr", "want", "error", "span", "ulps", "name"];

fn parse_case(file: &str, index: usize, row: &toml::Table) -> Result<Case, String> {
    let s = |k: &str| row.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let expr = s("expr").ok_or("missing expr")?;
    let mut vars = Vec::new();
    for (k, v) in row {
        if KEYS.contains(&k.as_str()) {
            continue;
        }
        let v = v
            .as_str()
            .ok_or_else(|| format!("variable {k} is not a string"))?;
        vars.push((k.clone(), parse_array(v).map_err(|e| format!("{k}: {e}"))?));
    }
    let expect = match (s("want"), s("error")) {
        (Some(w), None) => Expect::Value {
            want: parse_array(&w).map_err(|e| format!("want: {e}"))?,
            ulps: row.get("ulps").and_then(|u| u.as_integer()).unwrap_or(0) as u64,
        },
        (None, Some(kind)) => {
            let span = match row.get("span").and_then(|s| s.as_array()) {
                Some(a) if a.len() == 2 => Some((
                    a[0].as_integer().ok_or("span")? as u32,
                    a[1].as_integer().ok_or("span")? as u32,
                )),
                Some(_) => return Err("span must be [start, end]".into()),
                None => None,
            };
            Expect::Error { kind, span }
        }
        _ => return Err("exactly one of want / error".into()),
    };
    Ok(Case {
        file: file.to_string(),
        index,
        name: s("name"),
        expr,
        vars,
        expect,
    })
}

/// Parses `"f64: 1, 2"`, `"f32[2,2]: 1,2,3,4"` or `"i64[]: 5"`.
pub fn parse_array(s: &str) -> Result<Array, String> {
    let (head, values) = s.split_once(':').ok_or("expected '<dtype>: values'")?;
    let head = head.trim();
    let (dtype, shape) = match head.split_once('[') {
        Some((d, rest)) => {
            let dims = rest.strip_suffix(']').ok_or("unclosed shape")?;
            let shape: Vec<usize> = if dims.trim().is_empty() {
                vec![]
            } else {
                dims.split(',')
                    .map(|x| x.trim().parse::<usize>().map_err(|e| e.to_string()))
                    .collect::<Result<_, _>>()?
            };
            (d.trim(), Some(shape))
        }
        None => (head, None),
    };
    let dtype = DType::from_name(dtype).ok_or_else(|| format!("unknown dtype {dtype}"))?;
    let values: Vec<Scalar> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| parse_value(v, dtype))
        .collect::<Result<_, _>>()?;
    let shape = shape.unwrap_or_else(|| vec![values.len()]);
    let mut data = Data::zeros(dtype, values.len());
    for (i, v) in values.iter().enumerate() {
        data.set(i, *v);
    }
    Array::new(shape.clone(), data)
        .ok_or_else(|| format!("shape {shape:?} does not fit the values"))
}

fn parse_value(v: &str, dtype: DType) -> Result<Scalar, String> {
    let f = |x: f64| match dtype {
        DType::F32 => Scalar::F32(x as f32),
        _ => Scalar::F64(x),
    };
    Ok(match (dtype, v) {
        (DType::Bool, "true" | "True" | "1") => Scalar::Bool(true),
        (DType::Bool, "false" | "False" | "0") => Scalar::Bool(false),
        (DType::I32, v) => Scalar::I32(v.parse().map_err(|e| format!("{v}: {e}"))?),
        (DType::I64, v) => Scalar::I64(v.parse().map_err(|e| format!("{v}: {e}"))?),
        (DType::F32 | DType::F64, "nan") => f(f64::NAN),
        (DType::F32 | DType::F64, "-nan") => f(-f64::NAN),
        (DType::F32 | DType::F64, "inf") => f(f64::INFINITY),
        (DType::F32 | DType::F64, "-inf") => f(f64::NEG_INFINITY),
        (DType::F32, v) => Scalar::F32(v.parse::<f32>().map_err(|e| format!("{v}: {e}"))?),
        (DType::F64, v) => Scalar::F64(v.parse::<f64>().map_err(|e| format!("{v}: {e}"))?),
        (DType::Bool, v) => return Err(format!("bad bool {v}")),
    })
}

/// The kebab-case name the tables use for an error kind.
pub fn kind_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Syntax(_) => "syntax",
        ErrorKind::UnknownVariable { .. } => "unknown-variable",
        ErrorKind::UnknownFunction { .. } => "unknown-function",
        ErrorKind::WrongArity { .. } => "wrong-arity",
        ErrorKind::UnexpectedKeyword { .. } => "unexpected-keyword",
        ErrorKind::UnsupportedDType { .. } => "unsupported-dtype",
        ErrorKind::IntegerOutOfRange { .. } => "integer-out-of-range",
        ErrorKind::NegativeIntegerPower => "negative-integer-power",
        ErrorKind::ShapeMismatch { .. } => "shape-mismatch",
        ErrorKind::Internal(_) => "internal",
        _ => "other",
    }
}

/// Distance in units in the last place between two floats of one dtype
/// (0 for equal bits, and for two NaNs).
pub fn ulp_distance(a: Scalar, b: Scalar) -> u64 {
    // Maps floats to integers in order, one step per representable value;
    // -0.0 sits one step below +0.0 so that the sign of zero counts.
    fn ordered64(x: f64) -> i128 {
        let b = x.to_bits();
        let mag = i128::from(b & !(1 << 63));
        if b >> 63 == 1 { -mag - 1 } else { mag }
    }
    fn ordered32(x: f32) -> i128 {
        let b = x.to_bits();
        let mag = i128::from(b & !(1 << 31));
        if b >> 31 == 1 { -mag - 1 } else { mag }
    }
    match (a, b) {
        (Scalar::F64(x), Scalar::F64(y)) if x.is_nan() && y.is_nan() => 0,
        (Scalar::F32(x), Scalar::F32(y)) if x.is_nan() && y.is_nan() => 0,
        (Scalar::F64(x), Scalar::F64(y)) if x.is_nan() || y.is_nan() => u64::MAX,
        (Scalar::F32(x), Scalar::F32(y)) if x.is_nan() || y.is_nan() => u64::MAX,
        (Scalar::F64(x), Scalar::F64(y)) => (ordered64(x) - ordered64(y)).unsigned_abs() as u64,
        (Scalar::F32(x), Scalar::F32(y)) => (ordered32(x) - ordered32(y)).unsigned_abs() as u64,
        (x, y) => u64::from(x != y) * u64::MAX,
    }
}

/// Compares two arrays: same dtype and shape, every element within `ulps`
/// (bit-exact when 0; NaN positions must match). Returns a description of
/// the first difference.
pub fn compare(got: &Array, want: &Array, ulps: u64) -> Result<(), String> {
    if got.dtype() != want.dtype() {
        return Err(format!(
            "dtype {} != expected {}",
            got.dtype(),
            want.dtype()
        ));
    }
    if got.shape() != want.shape() {
        return Err(format!(
            "shape {:?} != expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    for i in 0..want.len() {
        let (g, w) = (got.get(i), want.get(i));
        if ulp_distance(g, w) > ulps {
            return Err(format!(
                "element {i}: got {g} expected {w} (tolerance {ulps} ulps)"
            ));
        }
    }
    Ok(())
}

/// Checks one case against an engine's outcome; `Err` describes the miss.
pub fn check_case(case: &Case, got: Result<Array, Error>) -> Result<(), String> {
    match (&case.expect, got) {
        (Expect::Value { want, ulps }, Ok(got)) => compare(&got, want, *ulps),
        (Expect::Value { .. }, Err(e)) => Err(format!("unexpected error:\n{e}")),
        (Expect::Error { kind, .. }, Ok(got)) => Err(format!(
            "expected error {kind}, got a {} result",
            got.dtype()
        )),
        (Expect::Error { kind, span }, Err(e)) => {
            let got_kind = kind_name(e.kind());
            if got_kind != kind {
                return Err(format!("expected error {kind}, got {got_kind}:\n{e}"));
            }
            if let Some((s, t)) = span {
                let gs = e.span().map(|sp| (sp.start, sp.end));
                if gs != Some((*s, *t)) {
                    return Err(format!("expected span {s}..{t}, got {gs:?}:\n{e}"));
                }
            }
            Ok(())
        }
    }
}

/// Runs every case through `engine`, panicking with a list of all misses.
pub fn run_all(engine_name: &str, engine: &dyn Fn(&Case) -> Result<Array, Error>) {
    let cases = load_all();
    assert!(cases.len() >= 10, "too few table cases: {}", cases.len());
    let mut misses = Vec::new();
    for case in &cases {
        let got = engine(case);
        if let Err(m) = check_case(case, got) {
            misses.push(format!("{}: {m}", case.label()));
        }
    }
    assert!(
        misses.is_empty(),
        "{engine_name}: {} of {} table cases failed:\n{}",
        misses.len(),
        cases.len(),
        misses.join("\n")
    );
}
