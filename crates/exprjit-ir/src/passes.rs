//! Rewrites a [`Func`] into an equivalent, smaller one: constant folding,
//! removal of identity casts, common-subexpression elimination and dead
//! code removal, in one forward walk plus a sweep.
//!
//! No rewrite may change a single result bit: folding evaluates with the
//! same table functions as the interpreter, and there are no algebraic
//! rewrites (`x/3.0` stays a division, `x*0` stays a multiplication since
//! it is NaN for NaN and -0.0 for negative x).

use crate::func::{Func, Inst, InstKind, Program, Value};
use crate::ops::Op;
use std::collections::HashMap;

/// Folds, drops identity casts, merges equal instructions and removes
/// unused ones. The result is verified in debug builds.
pub fn simplify(func: &Func) -> Func {
    let mut out: Vec<Inst> = Vec::with_capacity(func.insts.len());
    let mut map: Vec<Value> = Vec::with_capacity(func.insts.len());
    let mut seen: HashMap<(InstKind, crate::DType), Value> = HashMap::new();
    for inst in &func.insts {
        let mut kind = match &inst.kind {
            InstKind::Apply(op, args) => {
                InstKind::Apply(*op, args.iter().map(|a| map[a.index()]).collect())
            }
            k => k.clone(),
        };
        if let InstKind::Apply(op, args) = &kind {
            // cast to the operand's own dtype is the identity
            if let (Op::Cast(to), [a]) = (op, args.as_slice())
                && out[a.index()].dtype == *to
            {
                map.push(*a);
                continue;
            }
            let consts: Option<Vec<_>> = args
                .iter()
                .map(|a| match out[a.index()].kind {
                    InstKind::Const(c) => Some(c),
                    _ => None,
                })
                .collect();
            if let Some(consts) = consts {
                kind = InstKind::Const((op.info().eval)(&consts, inst.dtype));
            }
        }
        let key = (kind, inst.dtype);
        if let Some(&v) = seen.get(&key) {
            map.push(v);
            continue;
        }
        let v = Value(u32::try_from(out.len()).unwrap_or(u32::MAX));
        out.push(Inst {
            kind: key.0.clone(),
            dtype: inst.dtype,
            span: inst.span,
        });
        seen.insert(key, v);
        map.push(v);
    }
    let result = map[func.result.index()];
    let simplified = sweep(Func {
        params: func.params.clone(),
        insts: out,
        result,
    });
    debug_assert!(
        simplified.verify().is_ok(),
        "simplify broke the IR: {:?}",
        simplified.verify()
    );
    simplified
}

/// [`simplify`] on every function of a program (each reduction's input
/// too). Parameters are kept, so reductions stay bound.
pub fn simplify_program(program: &Program) -> Program {
    let simplified = Program {
        main: simplify(&program.main),
        reductions: program
            .reductions
            .iter()
            .map(|r| crate::func::Reduction {
                input: simplify_program(&r.input),
                ..r.clone()
            })
            .collect(),
    };
    debug_assert!(
        simplified.verify().is_ok(),
        "simplify broke the program: {:?}",
        simplified.verify()
    );
    simplified
}

/// Removes instructions the result does not depend on, keeping order.
fn sweep(func: Func) -> Func {
    let mut live = vec![false; func.insts.len()];
    live[func.result.index()] = true;
    for i in (0..func.insts.len()).rev() {
        if live[i]
            && let InstKind::Apply(_, args) = &func.insts[i].kind
        {
            for a in args {
                live[a.index()] = true;
            }
        }
    }
    let mut new_index = vec![Value(0); func.insts.len()];
    let mut insts = Vec::new();
    for (i, inst) in func.insts.into_iter().enumerate() {
        if !live[i] {
            continue;
        }
        new_index[i] = Value(u32::try_from(insts.len()).unwrap_or(u32::MAX));
        let kind = match inst.kind {
            InstKind::Apply(op, args) => {
                InstKind::Apply(op, args.iter().map(|a| new_index[a.index()]).collect())
            }
            k => k,
        };
        insts.push(Inst { kind, ..inst });
    }
    Func {
        params: func.params,
        insts,
        result: new_index[func.result.index()],
    }
}
