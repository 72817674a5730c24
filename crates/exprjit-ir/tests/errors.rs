//! Pins the rendered text of type errors: the expression, the caret line
//! under the offending part, the message and the hint.

use exprjit_ir::{DType, compile};

const VARS: [(&str, DType); 5] = [
    ("a", DType::F64),
    ("b", DType::F64),
    ("i", DType::I32),
    ("m", DType::Bool),
    ("x1", DType::F32),
];

fn err(text: &str) -> String {
    match compile(text, &VARS) {
        Ok(f) => panic!("{text} compiled:\n{f}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unknown_variable_suggests_a_close_name() {
    assert_eq!(
        err("a + x2"),
        "a + x2\n    ^^\nerror: unknown variable 'x2'\nhint: did you mean 'x1'?"
    );
}

#[test]
fn unknown_function_suggests_the_exprjit_spelling() {
    assert_eq!(
        err("asin(a)"),
        "asin(a)\n^^^^\nerror: unknown function 'asin'\nhint: exprjit spells it 'arcsin'"
    );
    assert_eq!(
        err("sqr(a)"),
        "sqr(a)\n^^^\nerror: unknown function 'sqr'\nhint: did you mean 'sqrt'?"
    );
    assert_eq!(
        err("a(1)"),
        "a(1)\n^\nerror: unknown function 'a'\nhint: 'a' is a variable, not a function"
    );
}

#[test]
fn bitwise_on_floats_points_at_the_float_operand() {
    assert_eq!(
        err("m & b"),
        "m & b\n    ^\nerror: '&' is not defined for float64\nhint: & | ^ ~ are logical on bool and bitwise on integers"
    );
}

#[test]
fn arity_points_at_the_first_extra_argument() {
    assert_eq!(
        err("sqrt(a, b)"),
        "sqrt(a, b)\n        ^\nerror: sqrt() takes 1 argument, got 2"
    );
    assert_eq!(
        err("where(m, a)"),
        "where(m, a)\n^^^^^^^^^^^\nerror: where() takes 3 arguments, got 2"
    );
}

#[test]
fn bool_arithmetic_is_rejected_with_a_hint() {
    assert_eq!(
        err("m - m"),
        "m - m\n^^^^^\nerror: '-' is not defined for bool\nhint: convert booleans first, e.g. int64(x), or use & | ^ ~ for logic"
    );
}

#[test]
fn integer_literals_must_fit_the_array_dtype() {
    assert_eq!(
        err("i + 3000000000"),
        "i + 3000000000\n    ^^^^^^^^^^\nerror: integer 3000000000 is out of range for int32"
    );
}

#[test]
fn negative_integer_power_literal() {
    assert_eq!(
        err("i ** -2"),
        "i ** -2\n     ^^\nerror: integers to negative integer powers are not allowed\nhint: use a float base or exponent, e.g. 2.0**-1"
    );
}

#[test]
fn keyword_arguments_are_rejected_where_unknown() {
    assert_eq!(
        err("sqrt(a, axis=1)"),
        "sqrt(a, axis=1)\n        ^^^^\nerror: sqrt() has no argument 'axis'"
    );
}

#[test]
fn constants_are_shadowed_by_variables() {
    let f = compile("e + pi", &[("e", DType::F32)]).unwrap();
    assert_eq!(f.result_dtype(), DType::F32);
    assert_eq!(f.params[0].name, "e");
}

#[test]
fn reductions_are_not_elementwise_and_check_their_arguments() {
    assert_eq!(
        err("a - mean(a)"),
        "a - mean(a)\n    ^^^^^^^\nerror: mean() is a reduction; only elementwise expressions compile to one kernel"
    );
    let program = |text: &str| match exprjit_ir::compile_program(text, &VARS) {
        Ok(p) => panic!("{text} compiled:\n{p}"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        program("max(a, b)"),
        "max(a, b)\n       ^\nerror: max's axis must be an integer constant\nhint: the elementwise maximum of two arrays is maximum(a, b)"
    );
    assert_eq!(
        program("sum(a, keepdims=i)"),
        "sum(a, keepdims=i)\n                ^\nerror: keepdims must be True or False"
    );
    assert_eq!(
        program("sum(a + zz)"),
        "sum(a + zz)\n        ^^\nerror: unknown variable 'zz'"
    );
}
