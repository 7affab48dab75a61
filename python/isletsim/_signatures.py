"""Signatures that ``inspect`` reads for the compiled functions and methods.

pybind11 functions are builtins whose parameters ``inspect.signature`` cannot
see (Jupyter's ``f?`` and tab completion, ``help()`` and IDEs use it). Each
public compiled function or method is replaced by a thin Python function that
calls it, with the parameter names and defaults of its pybind11 signature line
(the first line of its docstring) as ``__signature__``, and the rest of the
docstring as its own.
"""
from __future__ import annotations

import ast
import inspect
import os


class _Default:
    """A default value pybind11 printed but Python cannot rebuild: shown as printed."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _is_compiled(obj) -> bool:
    return type(obj).__name__ in ("builtin_function_or_method", "instancemethod")


def _parse(name: str, doc: str | None, method: bool):
    """(Signature, docstring without the signature line) from a pybind11 docstring, or None."""
    if not doc:
        return None
    first, _, rest = doc.partition("\n")
    if not first.startswith(name + "("):
        return None  # overloaded functions ("Overloaded function. ...") and others: no single signature
    depth, end = 0, -1
    for k, ch in enumerate(first):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and ch == ")":
            end = k
            break
    if end < 0:
        return None
    try:
        tree = ast.parse(f"def f({first[len(name) + 1:end]}): pass")
    except SyntaxError:
        return None
    a = tree.body[0].args

    def default(node):
        text = ast.unparse(node)
        try:
            return ast.literal_eval(node)
        except ValueError:
            return _Default(text)

    P = inspect.Parameter
    params = []
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for k, (arg, d) in enumerate(zip(positional, defaults)):
        kind = P.POSITIONAL_ONLY if arg in a.posonlyargs else P.POSITIONAL_OR_KEYWORD
        params.append(P(arg.arg, kind, default=P.empty if d is None else default(d)))
    if a.vararg:
        params.append(P(a.vararg.arg, P.VAR_POSITIONAL))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults):
        params.append(P(arg.arg, P.KEYWORD_ONLY, default=P.empty if d is None else default(d)))
    if a.kwarg:
        params.append(P(a.kwarg.arg, P.VAR_KEYWORD))
    if method and (not params or params[0].name != "self"):
        params.insert(0, P("self", P.POSITIONAL_OR_KEYWORD))
    return inspect.Signature(params), rest.lstrip("\n")


def wrap(fn, name: str, qualname: str, module: str = "isletsim", method: bool = False):
    """A Python function calling the compiled `fn`, with its signature and docstring; `fn` if none is found."""
    parsed = _parse(name, fn.__doc__, method)
    if parsed is None:
        return fn
    sig, doc = parsed

    def call(*args, **kwargs):
        # paths may be os.PathLike (pathlib.Path) where the compiled code takes str
        if any(isinstance(a, os.PathLike) for a in args):
            args = [os.fspath(a) if isinstance(a, os.PathLike) else a for a in args]
        if any(isinstance(a, os.PathLike) for a in kwargs.values()):
            kwargs = {k: os.fspath(a) if isinstance(a, os.PathLike) else a for k, a in kwargs.items()}
        return fn(*args, **kwargs)

    call.__name__, call.__qualname__, call.__module__ = name, qualname, module
    call.__doc__ = doc or None
    call.__signature__ = sig
    return call


_DUNDERS = ("__getitem__", "__contains__", "__len__")


def wrap_class(cls) -> None:
    """Gives every public compiled method and static method of `cls` (and its item access) a signature."""
    for name, obj in list(vars(cls).items()):
        if name.startswith("_") and name not in _DUNDERS:
            continue
        static = isinstance(obj, staticmethod)
        fn = obj.__func__ if static else obj
        if not _is_compiled(fn):
            continue
        if not static:
            fn = getattr(cls, name)  # the instancemethod's function: call it with self first
        w = wrap(fn, name, f"{cls.__name__}.{name}", method=not static)
        if w is not fn:
            setattr(cls, name, staticmethod(w) if static else w)


def wrap_functions(namespace: dict, names) -> None:
    """Replaces the compiled functions `names` of `namespace` (a module's globals) by wrappers."""
    for name in names:
        fn = namespace[name]
        if _is_compiled(fn):
            namespace[name] = wrap(fn, name, name)
