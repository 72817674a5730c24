//! One run of a case: its variables laid out, one entry point
//! (`evaluate_with`, `evaluate`, `evaluate_into`, `evaluate_in_place`,
//! `Prepared`), one engine choice (forced, or `Auto` on a cold or a warm
//! expression), threads, tile and accuracy; panics caught and kept as an
//! outcome.

use crate::case::{Case, Form, Laid, Var, lay_out, rust_type, vars};
use exprjit::internals::ir::{Array, DType, Data, Scalar};
use exprjit::{Accuracy, Engine, EngineChoice, Mode, Operand, Options, Prepared};
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which engine a run asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineSel {
    Force(Engine),
    /// `Auto` on text exprjit has not seen (a fresh whitespace suffix).
    AutoCold,
    /// `Auto` after `n` earlier calls of the same run (on the case's
    /// text, so that kernels other runs compiled may serve it too).
    AutoWarm(u8),
}

impl EngineSel {
    pub const ALL: [EngineSel; 7] = [
        EngineSel::Force(Engine::Fused),
        EngineSel::Force(Engine::MultiPass(Mode::Temporaries)),
        EngineSel::Force(Engine::MultiPass(Mode::InPlace)),
        EngineSel::Force(Engine::Interpreter),
        EngineSel::AutoCold,
        EngineSel::AutoWarm(1),
        EngineSel::AutoWarm(2),
    ];

    pub fn label(self) -> String {
        match self {
            EngineSel::Force(e) => format!("{e:?}"),
            EngineSel::AutoCold => "Auto(cold)".into(),
            EngineSel::AutoWarm(n) => format!("Auto(warm, call {})", n + 1),
        }
    }
}

/// Deliberately wrong inputs to a prepared expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    Missing,
    Extra,
    WrongDType,
}

/// The entry point of a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Evaluate,
    /// Into a buffer of `dtype` holding the result's element count plus
    /// `len_delta`.
    Into {
        dtype: DType,
        len_delta: i64,
    },
    /// Over `target` (a variable, or a name the expression does not read),
    /// a buffer of `dtype`.
    InPlace {
        target: String,
        dtype: DType,
    },
    /// `Prepared::run` (inputs in `input_names` order) or `run_vars`.
    Prepared {
        by_name: bool,
        bad: Option<Bad>,
    },
}

impl Entry {
    /// The entry point without the with/without options distinction.
    pub fn family(&self) -> &'static str {
        match self {
            Entry::Evaluate => "evaluate",
            Entry::Into { .. } => "evaluate_into",
            Entry::InPlace { .. } => "evaluate_in_place",
            Entry::Prepared { .. } => "Prepared",
        }
    }

    pub fn label(&self, plain: bool) -> &'static str {
        match (self, plain) {
            (Entry::Evaluate, true) => "evaluate",
            (Entry::Evaluate, false) => "evaluate_with",
            (Entry::Into { .. }, true) => "evaluate_into",
            (Entry::Into { .. }, false) => "evaluate_into_with",
            (Entry::InPlace { .. }, true) => "evaluate_in_place",
            (Entry::InPlace { .. }, false) => "evaluate_in_place_with",
            (Entry::Prepared { by_name: false, .. }, _) => "Prepared::run",
            (Entry::Prepared { by_name: true, .. }, _) => "Prepared::run_vars",
        }
    }
}

/// Everything about one run but the case.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// One per variable of the case.
    pub forms: Vec<Form>,
    pub entry: Entry,
    pub engine: EngineSel,
    pub threads: Option<usize>,
    pub exact_threads: bool,
    pub tile: Option<usize>,
    pub accuracy: Option<Accuracy>,
    /// Call the entry point without options (`evaluate`, not
    /// `evaluate_with`); only with `Auto` and default options.
    pub plain: bool,
}

impl RunSpec {
    /// The reference: the interpreter, one thread, strict, as evaluate_with.
    pub fn reference(forms: Vec<Form>) -> RunSpec {
        RunSpec {
            forms,
            entry: Entry::Evaluate,
            engine: EngineSel::Force(Engine::Interpreter),
            threads: Some(1),
            exact_threads: false,
            tile: None,
            accuracy: Some(Accuracy::Strict),
            plain: false,
        }
    }

    pub fn options(&self) -> Options {
        Options {
            engine: match self.engine {
                EngineSel::Force(e) => EngineChoice::Force(e),
                _ => EngineChoice::Auto,
            },
            threads: self.threads,
            tile: self.tile,
            fma: false,
            accuracy: self.accuracy,
            exact_threads: self.exact_threads,
        }
    }

    /// The accuracy the call runs under.
    pub fn effective_accuracy(&self) -> Accuracy {
        self.accuracy.unwrap_or_else(exprjit::accuracy)
    }

    pub fn accuracy_label(&self) -> String {
        match self.accuracy {
            Some(a) => format!("{a:?}"),
            None => format!("{:?} (global)", exprjit::accuracy()),
        }
    }
}

/// What a call gave.
#[derive(Clone, Debug)]
pub enum Outcome {
    Value(Array),
    Error(exprjit::Error),
    Panic(String),
}

/// A run's outcome and the engine its trace names (if it has one).
#[derive(Clone, Debug)]
pub struct Ran {
    pub outcome: Outcome,
    pub engine: Option<Engine>,
    /// The text called (with its fresh suffix for `Auto` runs).
    pub text: String,
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// While alive, panics are recorded (message and place) instead of
/// printed; the previous hook comes back on drop.
pub struct PanicCapture {
    previous: Option<Hook>,
}

impl std::fmt::Debug for PanicCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PanicCapture")
    }
}

impl PanicCapture {
    pub fn install() -> PanicCapture {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                "(non-string panic payload)".to_string()
            };
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            *LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{msg}{at}"));
        }));
        PanicCapture {
            previous: Some(previous),
        }
    }
}

impl Drop for PanicCapture {
    fn drop(&mut self) {
        if let Some(p) = self.previous.take() {
            std::panic::set_hook(p);
        }
    }
}

/// Runs `f`, turning a panic into its message.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        LAST_PANIC
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(panic)".to_string())
    })
}

static FRESH: AtomicU64 = AtomicU64::new(1);

/// `text` with a whitespace suffix no earlier call had: a cache miss.
pub fn fresh(text: &str) -> String {
    let k = FRESH.fetch_add(1, Ordering::Relaxed);
    let mut s = String::with_capacity(text.len() + 66);
    s.push_str(text);
    s.push('\n');
    let mut k = k;
    while k > 0 {
        s.push(if k & 1 == 1 { '\t' } else { ' ' });
        k >>= 1;
    }
    s
}

/// The variables of an in-place run: the target bound to a 1-d buffer of
/// `dtype` (a variable's values cast, or garbage of the result's length
/// for a name the expression does not read), as the in-place call reads
/// it. Also its forms.
pub fn in_place_case(
    case: &Case,
    forms: &[Form],
    target: &str,
    dtype: DType,
    result_len: usize,
) -> (Case, Vec<Form>) {
    let init = match case.var(target) {
        Some(v) if v.huge.is_none() => {
            let mut d = Data::zeros(dtype, v.len());
            for i in 0..v.len() {
                d.set(i, v.data.get(i).cast(dtype));
            }
            d
        }
        Some(_) => Data::zeros(dtype, 0),
        None => {
            let mut d = Data::zeros(dtype, result_len);
            for i in 0..result_len {
                d.set(i, Scalar::I64(i as i64 * 7 + 3).cast(dtype));
            }
            d
        }
    };
    let var = Var {
        name: target.to_string(),
        dtype,
        shape: vec![init.len()],
        data: init,
        huge: None,
        constant: vec![false],
    };
    let mut c = case.clone();
    let mut f = forms.to_vec();
    match c.vars.iter().position(|v| v.name == target) {
        Some(k) => {
            c.vars[k] = var;
            f[k] = Form::Slice;
        }
        None => {
            c.vars.push(var);
            f.push(Form::Slice);
        }
    }
    (c, f)
}

macro_rules! with_slice_mut {
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

/// A buffer of `len` elements of `dtype` holding values a correct call
/// overwrites.
fn garbage_buffer(dtype: DType, len: usize) -> Data {
    let mut d = Data::zeros(dtype, len);
    for i in 0..len {
        d.set(
            i,
            match dtype {
                DType::Bool => Scalar::Bool(i.is_multiple_of(2)),
                DType::F32 | DType::F64 => Scalar::F64(f64::from_bits(0x7FF8_0000_0BAD_F00D)),
                _ => Scalar::I64(-0x5EED_5EED),
            }
            .cast(dtype),
        );
    }
    d
}

/// One call of the run's entry point.
fn call_once(
    case: &Case,
    spec: &RunSpec,
    text: &str,
    laid: &[Laid],
    result_len: usize,
) -> Result<(Array, Option<Engine>), exprjit::Error> {
    let vars = vars(laid);
    let opts = spec.options();
    match &spec.entry {
        Entry::Evaluate if spec.plain => exprjit::evaluate(text, &vars).map(|a| (a, None)),
        Entry::Evaluate => {
            exprjit::evaluate_with(text, &vars, &opts).map(|(a, t)| (a, Some(t.engine)))
        }
        Entry::Into { dtype, len_delta } => {
            let len = (result_len as i64 + len_delta).max(0) as usize;
            let mut out = garbage_buffer(*dtype, len);
            let trace = with_slice_mut!(&mut out, s => if spec.plain {
                exprjit::evaluate_into(text, &vars, s)
            } else {
                exprjit::evaluate_into_with(text, &vars, s, &opts)
            })?;
            let a = Array::new(vec![len], out).ok_or_else(|| internal("buffer"))?;
            Ok((a, Some(trace.engine)))
        }
        Entry::InPlace { target, dtype } => {
            let (c, _) = in_place_case(case, &spec.forms, target, *dtype, result_len);
            let mut buf = c
                .var(target)
                .map(|v| v.data.clone())
                .unwrap_or(Data::F64(Vec::new()));
            let len = buf.len();
            let trace = with_slice_mut!(&mut buf, s => if spec.plain {
                exprjit::evaluate_in_place(text, &vars, target, s)
            } else {
                exprjit::evaluate_in_place_with(text, &vars, target, s, &opts)
            })?;
            let a = Array::new(vec![len], buf).ok_or_else(|| internal("buffer"))?;
            Ok((a, Some(trace.engine)))
        }
        Entry::Prepared { by_name, bad } => {
            let sig: Vec<(&str, DType)> = case
                .vars
                .iter()
                .map(|v| (v.name.as_str(), v.dtype))
                .collect();
            let p = prepared(text, &sig, opts, spec.plain)?;
            if *by_name {
                return p.run_vars(&vars).map(|a| (a, None));
            }
            let mut ops: Vec<Operand<'_>> = p
                .input_names()
                .iter()
                .filter_map(|n| vars.get(n).cloned())
                .collect();
            match bad {
                None => {}
                Some(Bad::Missing) if !ops.is_empty() => {
                    ops.pop();
                }
                Some(Bad::Missing | Bad::Extra) => ops.push(Operand::Scalar(Scalar::F64(1.0))),
                Some(Bad::WrongDType) => {
                    let s = match ops.first().map(Operand::dtype) {
                        Some(DType::I32) => Scalar::F64(1.0),
                        _ => Scalar::I32(1),
                    };
                    if ops.is_empty() {
                        ops.push(Operand::Scalar(s));
                    } else {
                        ops[0] = Operand::Scalar(s);
                    }
                }
            }
            p.run_traced(&ops).map(|(a, t)| (a, Some(t.engine)))
        }
    }
}

type PreparedKey = (String, Vec<(String, DType)>, String, bool);

thread_local! {
    /// Prepared expressions of the last few runs: a prepared expression is
    /// made to be run on many inputs, and compiling one per run would
    /// spend the fuzzer's time in Cranelift.
    static PREPARED: std::cell::RefCell<Vec<(PreparedKey, std::rc::Rc<Prepared>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// `Prepared::compile_with` (or `exprjit::compile` when `plain`), reused
/// from a recent run with the same text, signature and options.
fn prepared(
    text: &str,
    sig: &[(&str, DType)],
    opts: Options,
    plain: bool,
) -> Result<std::rc::Rc<Prepared>, exprjit::Error> {
    let key: PreparedKey = (
        text.to_string(),
        sig.iter().map(|(n, d)| (n.to_string(), *d)).collect(),
        format!("{opts:?}"),
        plain,
    );
    if let Some(p) = PREPARED.with(|c| {
        c.borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, p)| p.clone())
    }) {
        return Ok(p);
    }
    let p = std::rc::Rc::new(if plain {
        exprjit::compile(text, sig)?
    } else {
        Prepared::compile_with(text, sig, opts)?
    });
    PREPARED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 32 {
            c.remove(0);
        }
        c.push((key, p.clone()));
    });
    Ok(p)
}

fn internal(what: &str) -> exprjit::Error {
    exprjit::Error::new(exprjit::ErrorKind::Internal(what.into()), None, "")
}

/// Runs `spec` on `case`; `result_len` is the reference result's element
/// count (the length of `out` buffers).
pub fn execute(case: &Case, spec: &RunSpec, result_len: usize) -> Ran {
    let text = case.text();
    let text = match spec.engine {
        EngineSel::AutoCold => fresh(&text),
        EngineSel::AutoWarm(_) | EngineSel::Force(_) => text,
    };
    let laid: Vec<Laid> = case
        .vars
        .iter()
        .zip(&spec.forms)
        .map(|(v, f)| lay_out(v, f))
        .collect();
    let earlier = match spec.engine {
        EngineSel::AutoWarm(n) => n,
        _ => 0,
    };
    for k in 0..earlier {
        if let Err(p) = guarded(|| call_once(case, spec, &text, &laid, result_len)) {
            return Ran {
                outcome: Outcome::Panic(format!("(in warm-up call {}) {p}", k + 1)),
                engine: None,
                text,
            };
        }
    }
    let (outcome, engine) = match guarded(|| call_once(case, spec, &text, &laid, result_len)) {
        Ok(Ok((a, e))) => (Outcome::Value(a), e),
        Ok(Err(e)) => (Outcome::Error(e), None),
        Err(p) => (Outcome::Panic(p), None),
    };
    Ran {
        outcome,
        engine,
        text,
    }
}

/// The run as Rust: the variables, the options and the call.
pub fn rust(case: &Case, spec: &RunSpec, text: &str, result_len: usize) -> String {
    let laid: Vec<Laid> = case
        .vars
        .iter()
        .zip(&spec.forms)
        .map(|(v, f)| lay_out(v, f))
        .collect();
    let mut s = String::new();
    for l in &laid {
        s.push_str(&l.rust());
        s.push('\n');
    }
    let binds: Vec<String> = laid
        .iter()
        .map(|l| match &l.form {
            Form::Slice if l.shape.len() == 1 => format!(".with({:?}, &{})", l.name, l.name),
            _ => format!(".with({:?}, {})", l.name, l.name),
        })
        .collect();
    s.push_str(&format!("let vars = Vars::new(){};\n", binds.join("")));
    let o = spec.options();
    if !spec.plain {
        s.push_str(&format!(
            "let opts = Options {{ engine: {:?}, threads: {:?}, tile: {:?}, accuracy: {:?}, exact_threads: {}, ..Options::default() }};\n",
            o.engine, o.threads, o.tile, o.accuracy, o.exact_threads
        ));
    }
    let t = format!("{text:?}");
    match spec.engine {
        EngineSel::AutoCold => s.push_str("// a cold call: the text was never evaluated before\n"),
        EngineSel::AutoWarm(n) => s.push_str(&format!(
            "// a warm call: the same call made {n} time(s) before this one (and other runs may have compiled the text)\n"
        )),
        EngineSel::Force(_) => {}
    }
    let call = match &spec.entry {
        Entry::Evaluate if spec.plain => format!("exprjit::evaluate({t}, &vars)"),
        Entry::Evaluate => format!("exprjit::evaluate_with({t}, &vars, &opts)"),
        Entry::Into { dtype, len_delta } => {
            let len = (result_len as i64 + len_delta).max(0);
            let ty = rust_type(*dtype);
            if spec.plain {
                format!(
                    "let mut out = vec![{ty}::default(); {len}];\nexprjit::evaluate_into({t}, &vars, &mut out)"
                )
            } else {
                format!(
                    "let mut out = vec![{ty}::default(); {len}];\nexprjit::evaluate_into_with({t}, &vars, &mut out, &opts)"
                )
            }
        }
        Entry::InPlace { target, dtype } => {
            let (c, _) = in_place_case(case, &spec.forms, target, *dtype, result_len);
            let vals = c
                .var(target)
                .map(|v| crate::case::rust_values(&v.data, usize::MAX))
                .unwrap_or_default();
            let ty = rust_type(*dtype);
            if spec.plain {
                format!(
                    "let mut buf: Vec<{ty}> = vec![{vals}];\nexprjit::evaluate_in_place({t}, &vars, {target:?}, &mut buf)"
                )
            } else {
                format!(
                    "let mut buf: Vec<{ty}> = vec![{vals}];\nexprjit::evaluate_in_place_with({t}, &vars, {target:?}, &mut buf, &opts)"
                )
            }
        }
        Entry::Prepared { by_name, bad } => {
            let sig: Vec<String> = case
                .vars
                .iter()
                .map(|v| format!("({:?}, DType::{:?})", v.name, v.dtype))
                .collect();
            let compile = if spec.plain {
                format!("let p = exprjit::compile({t}, &[{}])?;", sig.join(", "))
            } else {
                format!(
                    "let p = Prepared::compile_with({t}, &[{}], opts)?;",
                    sig.join(", ")
                )
            };
            let run = match (by_name, bad) {
                (true, _) => "p.run_vars(&vars)".to_string(),
                (false, None) => {
                    "p.run(&p.input_names().iter().map(|n| vars.get(n).unwrap().clone()).collect::<Vec<_>>())".to_string()
                }
                (false, Some(b)) => format!(
                    "p.run(&inputs)  // inputs: input_names() order, then made wrong: {b:?}"
                ),
            };
            format!("{compile}\n{run}")
        }
    };
    s.push_str(&call);
    s
}
