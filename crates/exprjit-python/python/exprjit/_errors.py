"""The exceptions exprjit raises.

Each is an ``ExprjitError`` and also the built-in exception that numpy or
numexpr code already catches: ``SyntaxError`` for parse errors,
``NameError`` *and* ``KeyError`` for unknown names, ``TypeError`` for
dtypes, ``ValueError`` for shapes, ``MemoryError`` for results too large.
Where numexpr raises another built-in class for the same input, the
exception is an instance of that class too (the subclasses below), so that
``except`` clauses written for numexpr keep working: ``a[0]`` is a
``ForbiddenSyntaxError`` (a ``SyntaxError`` and, as in numexpr, a
``ValueError``), ``a and b`` an ``UnsupportedSyntaxError`` (also a
``TypeError``), ``a & b`` on floats an ``UnsupportedOperationError`` (a
``TypeError`` and numexpr's ``NotImplementedError``).

The message is exprjit's own: the expression, a caret line under the part
it is about, then ``error: ...`` and perhaps ``hint: ...``. It starts with
a line break so that the caret lines up under the expression in a
traceback (``ExprjitTypeError:`` does not push the expression right).
"""

from __future__ import annotations

import ast
import re

__all__ = [
    "ExprjitError",
    "ExprjitSyntaxError",
    "ExprjitIndentationError",
    "ForbiddenSyntaxError",
    "UnsupportedSyntaxError",
    "UnknownNameError",
    "UnknownFunctionError",
    "ExprjitTypeError",
    "UnsupportedOperationError",
    "UnsupportedValueError",
    "ExprjitValueError",
    "ExprjitMemoryError",
    "ArrayTooBigError",
    "InternalError",
]


class ExprjitError(Exception):
    """An error about an expression.

    Attributes: ``rendered`` (the message as exprjit prints it),
    ``expression`` (the text), ``message`` (one line, without
    the caret), ``hint`` (or None), ``span`` (``(start, end)`` indices into
    ``expression`` of the part the error is about, or None) and ``kind``
    (``"unknown_variable"``, ``"shape_mismatch"``, ...).
    """

    def __init__(self, text="", expression=None, message=None, hint=None, span=None, kind=None):
        # Not `self.text`: SyntaxError's traceback would print it as a
        # source line.
        self.rendered = text
        self.expression = expression
        self.message = message if message is not None else text
        self.hint = hint
        self.span = tuple(span) if span is not None else None
        self.kind = kind
        super().__init__("\n" + text if "\n" in text else text)

    def __str__(self):
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):
        return (
            type(self),
            (self.rendered, self.expression, self.message, self.hint, self.span, self.kind),
        )


class ExprjitSyntaxError(ExprjitError, SyntaxError):
    """The expression does not parse."""


class ExprjitIndentationError(ExprjitSyntaxError, IndentationError):
    """Text that is only whitespace, for which numexpr (Python's compiler)
    raises ``IndentationError``."""


class ForbiddenSyntaxError(ExprjitSyntaxError, ValueError):
    """Python syntax that numexpr's sanitizer refuses with ``ValueError``
    before parsing: indexing (``a[0]``), attribute access (``a.T``),
    dunder names (``__import__``), ``;`` and ``:`` (lambdas, slices); also
    string literals, which numexpr rejects with ``ValueError``."""


class UnsupportedSyntaxError(ExprjitSyntaxError, TypeError):
    """Python syntax exprjit's grammar does not have and numexpr rejects
    with ``TypeError``: ``and``, ``or``, ``not`` (use ``&``, ``|``, ``~``),
    ``x if c else y`` (use ``where``), chained comparisons, tuples, sets,
    ``@``."""


class UnknownNameError(ExprjitError, NameError, KeyError):
    """A variable found in no dictionary, or a function exprjit lacks.

    A ``KeyError`` too, as numexpr raises for a variable it cannot find.
    """


class UnknownFunctionError(UnknownNameError, TypeError):
    """A function exprjit lacks (numexpr: ``TypeError``, the name is not
    callable); also the name ``None``, which numexpr rejects with
    ``TypeError`` too."""


class ExprjitTypeError(ExprjitError, TypeError):
    """A dtype an operation, a function or the binding cannot take."""


class UnsupportedOperationError(ExprjitTypeError, NotImplementedError):
    """An operator or function applied to a dtype it does not take
    (``a & b`` on floats, ``-`` on bool), or a function given the wrong
    number of arguments (``sin(a, b)``): numexpr finds no opcode and raises
    ``NotImplementedError``."""


class UnsupportedValueError(ExprjitTypeError, ValueError):
    """A value exprjit cannot bind, where numexpr raises ``ValueError``: a
    variable of an unsupported dtype (strings, objects, ``None``,
    datetimes, a Python int beyond int64), an expression that is not a
    string, the wrong number of arrays for ``NumExpr.run``."""


class ExprjitValueError(ExprjitError, ValueError):
    """Shapes that do not broadcast, an ``out`` of the wrong shape, an
    integer to a negative power."""


class ExprjitMemoryError(ExprjitError, MemoryError):
    """A result too large to allocate."""


class ArrayTooBigError(ExprjitMemoryError, ValueError):
    """A result whose size in bytes does not fit the address space, which
    numpy (and numexpr) report as ``ValueError`` ("array is too big")."""


class InternalError(ExprjitError, RuntimeError):
    """A bug in exprjit, never the expression's fault: please report it."""


# What numexpr's sanitizer refuses, in the text stripped of whitespace and
# of '...' strings (see `syntax_class`).
_FORBIDDEN_CHARACTER = re.compile(r"[;\[:]")
_DUNDER = re.compile(r"(?<!\w)__\w+__(?!\w)")
# A '.' before a name, other than numexpr's allowed `.real`, `.imag` and the
# '.' of numbers (`1.e5`, `1.j`).
_ATTRIBUTE = re.compile(r"\.(?=[A-Za-z_])(?!(?:real|imag|j)\b|[eE][+-]?\d)")
_WHITESPACE = re.compile(r"\s+")
_QUOTED = re.compile(r"'[^']*'")
# Longer texts are not given to Python's parser (their class stays
# ExprjitSyntaxError).
_MAX_CLASSIFIED = 1 << 16


def syntax_class(expression):
    """The class of a syntax error in ``expression``: what numexpr would
    raise for it, as an exprjit class. numexpr sanitizes the text
    (``ValueError``), then compiles it as Python (``SyntaxError``), then
    evaluates it over its own node types (``TypeError`` for what it cannot
    build). Python's parser only parses here; nothing is evaluated."""
    if not isinstance(expression, str) or len(expression) > _MAX_CLASSIFIED:
        return ExprjitSyntaxError
    bare = _QUOTED.sub("", _WHITESPACE.sub("", expression))
    if _FORBIDDEN_CHARACTER.search(bare) or _DUNDER.search(bare) or _ATTRIBUTE.search(bare):
        return ForbiddenSyntaxError
    try:
        tree = ast.parse(expression, mode="eval")
    except IndentationError:
        return ExprjitIndentationError
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ExprjitSyntaxError
    body = tree.body
    if isinstance(body, ast.JoinedStr) or (
        isinstance(body, ast.Constant) and isinstance(body.value, (str, bytes))
    ):
        return ForbiddenSyntaxError
    return UnsupportedSyntaxError


# Shown (and pickled) as `exprjit.X`, where users import them from.
for _name in __all__:
    globals()[_name].__module__ = "exprjit"
del _name
