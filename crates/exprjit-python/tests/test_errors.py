"""Errors become Python exceptions of the right built-in class, carrying
exprjit's message (the expression, a caret line, ``error: ...``), and no
input string is ever evaluated as Python."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

import exprjit

a = np.arange(3.0)
b = np.arange(4.0)
i = np.arange(3, dtype=np.int32)
flags = np.array([True, False, True])


def raises(ex, cls, **kw):
    with pytest.raises(cls) as info:
        exprjit.evaluate(ex, **kw)
    assert isinstance(info.value, exprjit.ExprjitError)
    return info.value


def test_syntax_error():
    e = raises("a +* b", SyntaxError)
    assert isinstance(e, exprjit.ExprjitSyntaxError)
    assert str(e) == "\na +* b\n   ^\nerror: unexpected '*'\nhint: expected an expression"
    assert e.expression == "a +* b"
    assert e.span == (3, 4)
    assert e.message == "unexpected '*'"
    assert e.kind == "syntax"


def test_unknown_variable_is_key_and_name_error():
    e = raises("a + d", KeyError)
    assert isinstance(e, NameError) and isinstance(e, exprjit.UnknownNameError)
    assert str(e) == "\na + d\n    ^\nerror: unknown variable 'd'\nhint: did you mean 'a'?"
    assert e.kind == "unknown_variable"
    assert e.hint == "did you mean 'a'?"


def test_unknown_function():
    e = raises("frobnicate(a)", NameError)
    assert e.kind == "unknown_function"
    assert "^^^^^^^^^^" in str(e)


def test_wrong_arity_is_type_error():
    e = raises("sqrt(a, b)", TypeError)
    assert "sqrt() takes 1 argument, got 2" in str(e)


@pytest.mark.parametrize(
    "ex,fragment",
    [
        ("a & a", "'&' is not defined for float64"),
        ("flags + flags", "is not defined for bool"),
        ("-flags", "is not defined for bool"),
        ("i + 3000000000", "integer 3000000000 is out of range for int32"),
        ("i << 1.5", "not defined for float64"),
    ],
)
def test_dtype_errors_are_type_errors(ex, fragment):
    e = raises(ex, TypeError)
    assert isinstance(e, exprjit.ExprjitTypeError)
    assert fragment in str(e)
    assert "\n" + ex + "\n" in str(e)


def test_shape_errors_are_value_errors():
    e = raises("a + b", ValueError)
    assert "shapes [3] and [4] do not broadcast together" in str(e)
    assert str(e).startswith("\na + b\n    ^\n")
    e = raises("a * 2", ValueError, out=np.empty(4))
    assert "output has shape [4], the result has shape [3]" in str(e)


def test_negative_integer_power_is_value_error():
    e = raises("i ** -1", ValueError)
    assert "negative integer powers" in str(e)


def test_limits_are_errors_not_crashes():
    deep = "(" * 2000 + "a" + ")" * 2000
    raises(deep, exprjit.ExprjitError)
    long = "a" + " + a" * 300_000  # > 1 MiB
    raises(long, exprjit.ExprjitError)
    raises("", SyntaxError)
    raises("   ", SyntaxError)
    raises("a\0", SyntaxError)


@pytest.mark.parametrize(
    "ex",
    [
        "__import__('os').system('touch {path}')",
        "open('{path}', 'w')",
        "exec('open(\"{path}\", \"w\")')",
        "eval('1')",
        "a.__class__",
        "lambda: 1",
        "[x for x in a]",
        "a if flags else b",
        "a; import os",
        "a.sum()",
        "a[0]",
        "{{}}",
        "f'{{a}}'",
        "getattr(a, 'T')",
    ],
)
def test_nothing_is_evaluated_as_python(ex, tmp_path):
    path = tmp_path / "pwned"
    with pytest.raises(exprjit.ExprjitError):
        exprjit.evaluate(ex.format(path=path))
    assert not path.exists()
    assert not os.path.exists("pwned")


def test_exceptions_pickle():
    e = raises("a + d", KeyError)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is type(e)
    assert str(back) == str(e) and back.span == e.span and back.kind == e.kind


def test_errors_do_not_poison_later_calls():
    for _ in range(3):
        raises("a + d", KeyError)
    assert exprjit.evaluate("a + 1").tolist() == [1.0, 2.0, 3.0]


def test_numexpr_object_errors():
    with pytest.raises(SyntaxError):
        exprjit.NumExpr("a +")
    with pytest.raises(TypeError, match="not defined"):
        exprjit.NumExpr("a & a")
