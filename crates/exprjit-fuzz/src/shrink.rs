//! Shrinks a failure to a small reproducer: greedy passes that replace
//! sub-expressions by their operands or by leaves, drop unused variables,
//! simplify layouts and options, shorten and drop axes, and set values to
//! 0 or 1, keeping a change only if the failure (same signature) remains.

use crate::case::{Case, Form, Source, Var};
use crate::check::{Ctx, Failure};
use crate::expr::{Node, count};
use crate::run::{EngineSel, Entry, RunSpec, guarded};
use exprjit::internals::ir::{Data, Scalar};
use std::time::{Duration, Instant};

/// How much a shrink may cost.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub evals: usize,
    pub time: Duration,
}

struct Shrinker {
    signature: String,
    ulps: u64,
    best: Failure,
    evals: usize,
    steps: usize,
    budget: Budget,
    start: Instant,
}

impl Shrinker {
    fn exhausted(&self) -> bool {
        self.evals >= self.budget.evals || self.start.elapsed() >= self.budget.time
    }

    /// Tries a candidate; keeps it if it fails the same way.
    fn try_candidate(&mut self, case: Case, spec: Option<RunSpec>) -> bool {
        if self.exhausted()
            || spec
                .as_ref()
                .is_some_and(|s| s.forms.len() != case.vars.len())
        {
            return false;
        }
        self.evals += 1;
        let sig = self.signature.clone();
        let ulps = self.ulps;
        let found = guarded(|| {
            let mut ctx = Ctx::new(&case, ulps);
            match &spec {
                None => ctx
                    .reference_checks()
                    .into_iter()
                    .find(|g| g.signature == sig),
                Some(s) => ctx.check_run(s).filter(|g| g.signature == sig),
            }
        });
        match found {
            Ok(Some(g)) => {
                self.best = g;
                self.steps += 1;
                true
            }
            _ => false,
        }
    }

    fn case(&self) -> Case {
        self.best.case.clone()
    }

    fn spec(&self) -> Option<RunSpec> {
        self.best.spec.clone()
    }

    /// Runs passes until none makes progress.
    fn run(&mut self) {
        loop {
            let before = self.steps;
            self.text_pass();
            self.tree_pass();
            self.unused_vars_pass();
            self.options_pass();
            self.forms_pass();
            self.shape_pass();
            self.values_pass();
            if self.steps == before || self.exhausted() {
                break;
            }
        }
    }

    /// For a text that does not parse: delete chunks of characters.
    fn text_pass(&mut self) {
        let Source::Text(_) = &self.best.case.expr else {
            return;
        };
        let mut chunk = 16;
        while chunk >= 1 && !self.exhausted() {
            let mut i = 0;
            loop {
                let Source::Text(t) = &self.best.case.expr else {
                    return;
                };
                let chars: Vec<char> = t.chars().collect();
                if i >= chars.len() {
                    break;
                }
                let mut shorter = chars.clone();
                shorter.drain(i..(i + chunk).min(chars.len()));
                let mut c = self.case();
                c.expr = Source::Text(shorter.into_iter().collect());
                if !self.try_candidate(c, self.spec()) {
                    i += chunk;
                }
                if self.exhausted() {
                    return;
                }
            }
            chunk /= 2;
        }
    }

    fn tree_pass(&mut self) {
        let mut progress = true;
        while progress && !self.exhausted() {
            progress = false;
            let Some(tree) = self.tree() else {
                return;
            };
            // Root first: the biggest cuts are tried first.
            'paths: for path in tree.paths().into_iter().rev() {
                let Some(node) = tree.get(&path) else {
                    continue;
                };
                let mut repl: Vec<Node> = node.children().into_iter().cloned().collect();
                if let Node::Call(name, args) = node {
                    for k in 0..args.len() {
                        let mut a = args.clone();
                        a.remove(k);
                        repl.push(Node::Call(name.clone(), a));
                    }
                }
                if !matches!(
                    node,
                    Node::Name(_) | Node::Int(_) | Node::Float(_) | Node::Bool(_)
                ) {
                    for v in &self.best.case.vars {
                        repl.push(Node::Name(v.name.clone()));
                    }
                    repl.push(Node::Int(1));
                    repl.push(Node::Float(0.5));
                }
                for r in repl {
                    if r.size() >= node.size() && !matches!(r, Node::Name(_)) {
                        continue;
                    }
                    let mut c = self.case();
                    c.expr = Source::Tree(tree.replaced(&path, r));
                    if self.try_candidate(c, self.spec()) {
                        progress = true;
                        break 'paths;
                    }
                }
            }
        }
    }

    fn tree(&self) -> Option<Node> {
        match &self.best.case.expr {
            Source::Tree(t) => Some(t.clone()),
            Source::Text(_) => None,
        }
    }

    fn unused_vars_pass(&mut self) {
        let Some(tree) = self.best.case.tree() else {
            return;
        };
        let mut k = 0;
        while k < self.best.case.vars.len() && !self.exhausted() {
            let name = self.best.case.vars[k].name.clone();
            let target = matches!(&self.best.spec, Some(RunSpec { entry: Entry::InPlace { target, .. }, .. }) if *target == name);
            if tree.mentions(&name) || target {
                k += 1;
                continue;
            }
            let mut c = self.case();
            c.vars.remove(k);
            let s = self.spec().map(|mut s| {
                s.forms.remove(k);
                s
            });
            if !self.try_candidate(c, s) {
                k += 1;
            }
        }
    }

    fn options_pass(&mut self) {
        let Some(spec) = self.spec() else {
            return;
        };
        let mut cands = Vec::new();
        let mut s = spec.clone();
        if s.threads != Some(1) || s.exact_threads {
            s.threads = Some(1);
            s.exact_threads = false;
            cands.push(s.clone());
        }
        let mut s = spec.clone();
        if s.tile.is_some() {
            s.tile = None;
            cands.push(s);
        }
        if let EngineSel::AutoWarm(n) = spec.engine
            && n > 1
        {
            let mut s = spec.clone();
            s.engine = EngineSel::AutoWarm(1);
            cands.push(s);
        }
        if let Entry::Prepared { by_name: true, bad } = spec.entry {
            let mut s = spec.clone();
            s.entry = Entry::Prepared {
                by_name: false,
                bad,
            };
            cands.push(s);
        }
        if !matches!(spec.entry, Entry::Evaluate) {
            let mut s = spec.clone();
            s.entry = Entry::Evaluate;
            s.plain = false;
            cands.push(s);
        }
        for s in cands {
            let case = self.case();
            self.try_candidate(case, Some(s));
        }
    }

    fn forms_pass(&mut self) {
        let Some(spec) = self.spec() else {
            return;
        };
        for k in 0..spec.forms.len() {
            let Some(s) = self.spec() else {
                return;
            };
            let simple = if self.best.case.vars[k].shape.is_empty() {
                Form::Scalar
            } else {
                Form::Slice
            };
            if s.forms[k] == simple {
                continue;
            }
            let mut s2 = s.clone();
            s2.forms[k] = simple;
            let case = self.case();
            if !self.try_candidate(case, Some(s2))
                && let Form::View(v) = &s.forms[k]
            {
                // Keep the view but drop its parts one at a time.
                let mut parts = Vec::new();
                let mut w = v.clone();
                w.pad = 0;
                parts.push(w);
                let mut w = v.clone();
                w.gap = 1;
                parts.push(w);
                let mut w = v.clone();
                w.order.sort_unstable();
                parts.push(w);
                let mut w = v.clone();
                w.reversed.iter_mut().for_each(|r| *r = false);
                parts.push(w);
                for w in parts {
                    if Form::View(w.clone())
                        == self.spec().map_or(Form::Slice, |s| s.forms[k].clone())
                    {
                        continue;
                    }
                    let mut s3 = self.spec().unwrap_or(s.clone());
                    s3.forms[k] = Form::View(w);
                    let case = self.case();
                    self.try_candidate(case, Some(s3));
                }
            }
        }
    }

    fn shape_pass(&mut self) {
        let mut k = 0;
        while k < self.best.case.vars.len() && !self.exhausted() {
            let v = self.best.case.vars[k].clone();
            // Empty and huge variables have no values to shorten.
            if v.huge.is_some() || count(&v.shape).is_none_or(|n| n == 0) {
                k += 1;
                continue;
            }
            let mut progress = false;
            for axis in 0..v.shape.len() {
                let len = v.shape[axis];
                let mut targets = vec![];
                if len > 1 {
                    for t in [1, len / 2, len - 1] {
                        targets.push((t, false));
                        targets.push((t, true));
                    }
                }
                targets.dedup();
                for (t, from_end) in targets {
                    // All variables sharing this axis (aligned from the
                    // right) at once, so that they still broadcast; then
                    // this one alone.
                    let from_right = v.shape.len() - axis;
                    let mut joint = self.case();
                    for w in &mut joint.vars {
                        if w.huge.is_none() && w.shape.len() >= from_right {
                            let a = w.shape.len() - from_right;
                            if w.shape[a] == len {
                                *w = slice_axis(w, a, t, from_end);
                            }
                        }
                    }
                    if self.try_candidate(joint, self.spec()) {
                        progress = true;
                        break;
                    }
                    let mut alone = self.case();
                    alone.vars[k] = slice_axis(&v, axis, t, from_end);
                    if self.try_candidate(alone, self.spec()) {
                        progress = true;
                        break;
                    }
                }
                if progress {
                    break;
                }
            }
            if !progress && !v.shape.is_empty() {
                let mut c = self.case();
                c.vars[k] = drop_leading_axis(&v);
                progress = self.try_candidate(c, self.spec());
            }
            if !progress {
                k += 1;
            }
        }
    }

    fn values_pass(&mut self) {
        for k in 0..self.best.case.vars.len() {
            let n = self.best.case.vars[k].len();
            for i in 0..n {
                if self.exhausted() {
                    return;
                }
                let v = &self.best.case.vars[k];
                let (x, dtype) = (v.data.get(i), v.dtype);
                for simple in [0i64, 1] {
                    let s = Scalar::I64(simple).cast(dtype);
                    if x == s {
                        break;
                    }
                    let mut c = self.case();
                    let w = &mut c.vars[k];
                    w.data.set(i, s);
                    w.constant.iter_mut().for_each(|c| *c = false);
                    if self.try_candidate(c, self.spec()) {
                        break;
                    }
                }
            }
        }
    }
}

/// `v` with axis `axis` cut to its first `len` entries (its last, for
/// `from_end`).
pub fn slice_axis(v: &Var, axis: usize, len: usize, from_end: bool) -> Var {
    let mut shape = v.shape.clone();
    shape[axis] = len.min(shape[axis]);
    let skip = if from_end {
        v.shape[axis] - shape[axis]
    } else {
        0
    };
    let n = count(&shape).unwrap_or(0);
    let mut data = Data::zeros(v.dtype, n);
    let old_strides = strides(&v.shape);
    let new_strides = strides(&shape);
    for flat in 0..n {
        let mut src = 0;
        for d in 0..shape.len() {
            let mut idx = (flat / new_strides[d]) % shape[d].max(1);
            if d == axis {
                idx += skip;
            }
            src += idx * old_strides[d];
        }
        data.set(flat, v.data.get(src));
    }
    let mut constant = v.constant.clone();
    if len <= 1 {
        constant[axis] = false;
    }
    Var {
        name: v.name.clone(),
        dtype: v.dtype,
        shape,
        data,
        huge: None,
        constant,
    }
}

fn drop_leading_axis(v: &Var) -> Var {
    let cut = slice_axis(v, 0, 1, false);
    Var {
        shape: cut.shape[1..].to_vec(),
        constant: cut.constant[1..].to_vec(),
        ..cut
    }
}

fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1] * shape[k + 1].max(1);
    }
    s
}

/// Shrinks `f`; returns the smallest failure found and the number of
/// candidate runs it took.
pub fn shrink(f: &Failure, ulps: u64, budget: Budget) -> (Failure, usize) {
    let mut s = Shrinker {
        signature: f.signature.clone(),
        ulps,
        best: f.clone(),
        evals: 0,
        steps: 0,
        budget,
        start: Instant::now(),
    };
    // A mutated text that parses shrinks as a tree.
    if let Source::Text(t) = &f.case.expr
        && let Ok(e) = exprjit::internals::syntax::parse(t)
    {
        let mut c = f.case.clone();
        c.expr = Source::Tree(Node::from_ast(&e));
        s.try_candidate(c, f.spec.clone());
    }
    s.run();
    (s.best, s.evals)
}
