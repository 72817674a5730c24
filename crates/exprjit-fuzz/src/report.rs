//! Counts what ran (cases, runs per entry point, engine, accuracy,
//! layout) and what failed, and renders the report: totals, failures
//! grouped by signature, and a shrunk Rust reproducer for each.

use crate::case::{Case, Form, describe_var};
use crate::check::{Class, Failure};
use crate::run::{RunSpec, rust};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// What ran and what failed.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub cases: u64,
    /// Cases whose reference result is a value.
    pub value_cases: u64,
    /// Cases whose reference result is an error, by kind.
    pub errors: BTreeMap<String, u64>,
    pub runs: u64,
    pub by_entry: BTreeMap<String, u64>,
    pub by_engine: BTreeMap<String, u64>,
    pub by_accuracy: BTreeMap<String, u64>,
    pub by_threads: BTreeMap<String, u64>,
    pub by_tile: BTreeMap<String, u64>,
    pub by_layout: BTreeMap<String, u64>,
    /// Fast runs that differed from the reference bit for bit and were
    /// judged per operation.
    pub fast_checks: u64,
    pub failures: u64,
    pub reference_failures: u64,
    pub skipped: u64,
    pub fuzzer_panics: u64,
    /// Time by what it was spent on.
    pub time: BTreeMap<String, Duration>,
    /// Failures by signature: class and count.
    pub signatures: BTreeMap<String, (Class, u64)>,
}

fn bump(m: &mut BTreeMap<String, u64>, k: impl Into<String>) {
    *m.entry(k.into()).or_default() += 1;
}

impl Stats {
    pub fn count(&mut self, spec: &RunSpec) {
        self.runs += 1;
        bump(&mut self.by_entry, spec.entry.label(spec.plain));
        bump(&mut self.by_engine, spec.engine.label());
        bump(&mut self.by_accuracy, spec.accuracy_label());
        bump(
            &mut self.by_threads,
            match (spec.threads, spec.exact_threads) {
                (Some(n), true) => format!("{n} (exact)"),
                (Some(n), false) => n.to_string(),
                (None, _) => "default".into(),
            },
        );
        bump(
            &mut self.by_tile,
            match spec.tile {
                None => "auto".to_string(),
                Some(t @ (1 | 7 | 1024)) => t.to_string(),
                Some(_) => "larger than the input".to_string(),
            },
        );
        for f in &spec.forms {
            bump(
                &mut self.by_layout,
                match f {
                    Form::Slice => "slice",
                    Form::Owned => "owned array",
                    Form::Scalar => "scalar",
                    Form::View(v) if v.zero.iter().any(|z| *z) => "view with stride 0",
                    Form::View(v) if v.reversed.iter().any(|r| *r) => "view reversed",
                    Form::View(v) if v.order.windows(2).any(|w| w[0] > w[1]) => "view transposed",
                    Form::View(v) if v.gap > 1 => "view strided",
                    Form::View(_) => "view dense",
                },
            );
        }
    }
}

/// A failure, shrunk, with where it was found.
#[derive(Clone, Debug)]
pub struct Reproducer {
    /// The seed of the case's group (one expression, several variable
    /// sets) and the case's place in it.
    pub group_seed: u64,
    pub member: usize,
    pub case_index: u64,
    pub original: Case,
    pub failure: Failure,
    pub shrink_evals: usize,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub seed: u64,
    pub elapsed: Duration,
    pub limit_seconds: Option<f64>,
    pub case_limit: Option<u64>,
    pub machine: String,
    pub stats: Stats,
    pub reproducers: Vec<Reproducer>,
    pub skip: Vec<String>,
}

fn table(out: &mut String, title: &str, m: &BTreeMap<String, u64>) {
    let _ = write!(out, "  {title}:");
    for (k, v) in m {
        let _ = write!(out, " {k} {v};");
    }
    out.push('\n');
}

impl Report {
    /// Failures that count (skipped ones apart).
    pub fn failures(&self) -> u64 {
        self.stats.failures + self.stats.fuzzer_panics
    }

    pub fn render(&self) -> String {
        let s = &self.stats;
        let mut out = String::new();
        let _ = writeln!(out, "exprjit-fuzz report");
        let _ = writeln!(out, "  seed: {} ({:#x})", self.seed, self.seed);
        let _ = writeln!(out, "  machine: {}", self.machine);
        let _ = writeln!(
            out,
            "  time: {:.1} s{}{}",
            self.elapsed.as_secs_f64(),
            self.limit_seconds
                .map(|l| format!(" (limit {l} s)"))
                .unwrap_or_default(),
            self.case_limit
                .map(|c| format!(" (limit {c} cases)"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "  cases: {} ({:.0}/s): {} with a value, {} with an error",
            s.cases,
            s.cases as f64 / self.elapsed.as_secs_f64().max(1e-9),
            s.value_cases,
            s.errors.values().sum::<u64>()
        );
        table(&mut out, "reference errors by kind", &s.errors);
        let _ = writeln!(out, "  runs: {}", s.runs);
        table(&mut out, "by entry point", &s.by_entry);
        table(&mut out, "by engine", &s.by_engine);
        table(&mut out, "by accuracy", &s.by_accuracy);
        table(&mut out, "by threads", &s.by_threads);
        table(&mut out, "by tile", &s.by_tile);
        table(&mut out, "operands by layout", &s.by_layout);
        let _ = write!(out, "  time (s):");
        for (k, t) in &s.time {
            let _ = write!(out, " {k} {:.1};", t.as_secs_f64());
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "  Fast runs judged per operation (not bit-identical to the reference): {}",
            s.fast_checks
        );
        let by_class = {
            let mut m: BTreeMap<String, u64> = BTreeMap::new();
            for (class, n) in s.signatures.values() {
                *m.entry(format!("{class:?}")).or_default() += n;
            }
            m
        };
        let _ = writeln!(
            out,
            "  failures: {} (of the reference itself: {}); panics in the fuzzer: {}; skipped (--skip {:?}): {}",
            s.failures, s.reference_failures, s.fuzzer_panics, self.skip, s.skipped
        );
        table(&mut out, "failures by class", &by_class);
        if !s.signatures.is_empty() {
            let _ = writeln!(out, "  distinct signatures ({}):", s.signatures.len());
            let mut sigs: Vec<(&String, &(Class, u64))> = s.signatures.iter().collect();
            sigs.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
            for (sig, (_, n)) in sigs {
                let _ = writeln!(out, "    {n:>7}  {sig}");
            }
        }
        for (i, r) in self.reproducers.iter().enumerate() {
            let _ = writeln!(out, "\n--- failure {} ---", i + 1);
            out.push_str(&r.render());
        }
        out
    }
}

impl Reproducer {
    pub fn render(&self) -> String {
        let f = &self.failure;
        let mut out = String::new();
        let _ = writeln!(out, "signature: {}", f.signature);
        let _ = writeln!(
            out,
            "found in case {} (group seed {:#018x}, member {}; replay: --only {:#x}); shrunk from `{}` in {} runs",
            self.case_index,
            self.group_seed,
            self.member,
            self.group_seed,
            self.original.text().escape_debug(),
            self.shrink_evals
        );
        let _ = writeln!(out, "expression: {:?}", f.case.text());
        for v in &f.case.vars {
            let _ = writeln!(out, "  {}", describe_var(v));
        }
        match &f.spec {
            Some(spec) => {
                let _ = writeln!(
                    out,
                    "entry point: {}; engine {}; threads {:?}{}; tile {:?}; accuracy {}",
                    spec.entry.label(spec.plain),
                    spec.engine.label(),
                    spec.threads,
                    if spec.exact_threads { " (exact)" } else { "" },
                    spec.tile,
                    spec.accuracy_label()
                );
                out.push_str("```rust\n");
                out.push_str(&rust(&f.case, spec, &f.text, f.result_len));
                out.push_str("\n```\n");
            }
            None => {
                let _ = writeln!(
                    out,
                    "the reference (Engine::Interpreter, Strict, contiguous operands) itself"
                );
            }
        }
        out.push_str(&f.detail);
        if !f.detail.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}
