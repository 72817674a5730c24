"""The exceptions exprjit raises.

Each is an ``ExprjitError`` and also the built-in exception that numpy or
numexpr code already catches: ``SyntaxError`` for parse errors,
``NameError`` *and* ``KeyError`` for unknown names, ``TypeError`` for
dtypes, ``ValueError`` for shapes, ``MemoryError`` for results too large.

The message is exprjit's own: the expression, a caret line under the part
it is about, then ``error: ...`` and perhaps ``hint: ...``. It starts with
a line break so that the caret lines up under the expression in a
traceback (``ExprjitTypeError:`` does not push the expression right).
"""

from __future__ import annotations

__all__ = [
    "ExprjitError",
    "ExprjitSyntaxError",
    "UnknownNameError",
    "ExprjitTypeError",
    "ExprjitValueError",
    "ExprjitMemoryError",
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


class UnknownNameError(ExprjitError, NameError, KeyError):
    """A variable found in no dictionary, or a function exprjit lacks.

    A ``KeyError`` too, as numexpr raises for a variable it cannot find.
    """


class ExprjitTypeError(ExprjitError, TypeError):
    """A dtype an operation, a function or the binding cannot take."""


class ExprjitValueError(ExprjitError, ValueError):
    """Shapes that do not broadcast, an ``out`` of the wrong shape, an
    integer to a negative power."""


class ExprjitMemoryError(ExprjitError, MemoryError):
    """A result too large to allocate."""


class InternalError(ExprjitError, RuntimeError):
    """A bug in exprjit, never the expression's fault: please report it."""


# Shown (and pickled) as `exprjit.X`, where users import them from.
for _cls in (
    ExprjitError,
    ExprjitSyntaxError,
    UnknownNameError,
    ExprjitTypeError,
    ExprjitValueError,
    ExprjitMemoryError,
    InternalError,
):
    _cls.__module__ = "exprjit"
del _cls
