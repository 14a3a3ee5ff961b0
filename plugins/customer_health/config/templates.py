"""Task templates (Jinja) rendered in a sandbox that is bounded in steps, size and time.

A template is written by a CS-ops person, not a developer, and is rendered
for every account a play fires for; ``{% for i in range(100000) %}{% for j in
range(100000) %}`` must fail validation in milliseconds, not hang it. Jinja's
sandbox already refuses unsafe attributes and ranges over 100,000 items; on
top of it every render gets a budget:

- **steps**: every loop iteration and every call (functions, methods, macros,
  recursive loops) spends one; more than ``MAX_STEPS`` stops the render;
- **size**: the output may not exceed ``MAX_CHARS`` characters, ``*`` may not
  build a longer string or list, ``**`` takes no exponent above
  ``MAX_EXPONENT``, and no width or count above ``MAX_CHARS`` reaches a
  filter that allocates by it (``center(10**9)`` would take a gigabyte in
  one step);
- **time**: a render still running after ``MAX_SECONDS`` stops at its next
  step or output chunk.

Loops are counted by compiling every ``for`` over ``iterable | _counted``
(a code generator that wraps the loop's iterable), so the bound holds for
any template without trusting its author. A render that runs out raises
:class:`TemplateBudgetError`, a Jinja ``SecurityError``.
"""
from __future__ import annotations

import functools
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, nodes
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_STEPS = 10_000
MAX_CHARS = 20_000
MAX_EXPONENT = 1_000
MAX_SECONDS = 1.0
LIMITS = (f"a template may take at most {MAX_STEPS:,} loop iterations and calls, write {MAX_CHARS:,} characters "
          f"and run {MAX_SECONDS:g} s")


class TemplateBudgetError(SecurityError):
    """A render went over its budget of steps, size or time; the message says which and what is allowed."""


@dataclass
class _Budget:
    steps: int
    deadline: float


_BUDGET: ContextVar[_Budget | None] = ContextVar("customer_health_template_budget", default=None)


def _spend(steps: int = 1) -> None:
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.steps -= steps
    if budget.steps < 0:
        raise TemplateBudgetError(f"more than {MAX_STEPS:,} loop iterations and calls; {LIMITS}")
    if time.monotonic() > budget.deadline:
        raise TemplateBudgetError(f"still rendering after {MAX_SECONDS:g} s; {LIMITS}")


def _counted(iterable):
    """What every ``for`` loop iterates over: the same items, one step each."""
    for item in iterable:
        _spend()
        yield item


class _CountingCodeGenerator(CodeGenerator):
    """Compiles ``{% for x in xs %}`` as ``{% for x in xs | _counted %}``, before Jinja collects the filters used."""

    def visit_Template(self, node: nodes.Template, frame=None) -> None:  # noqa: N802 - Jinja's visitor naming
        for loop in node.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_counted", [], [], None, None, lineno=loop.lineno)
        super().visit_Template(node, frame)


SIZE_FILTERS = ("center", "indent", "wordwrap", "truncate", "batch", "slice", "format")
"""Built-in filters whose numeric arguments are widths or counts: each is refused above MAX_CHARS."""
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d+)")


def _bounded_filter(fn):
    """A size-taking filter that refuses a width or count larger than any output may be, before it allocates."""
    first_argument = 2 if getattr(fn, "jinja_pass_arg", None) else 1  # after the context/environment and the value

    @functools.wraps(fn)
    def bounded(*args, **kwargs):
        for value in (*args[first_argument:], *kwargs.values()):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_CHARS:
                raise TemplateBudgetError(f"filter {fn.__name__} given {value!r}; {LIMITS}")
        if fn.__name__ == "do_format" and args and isinstance(args[0], str):
            widest = max((int(w) for w in _FORMAT_WIDTH.findall(args[0])), default=0)
            if widest > MAX_CHARS:
                raise TemplateBudgetError(f"format width {widest:,}; {LIMITS}")
        return fn(*args, **kwargs)

    return bounded


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, strict about undefined names, with every render's steps, size and time bounded."""

    code_generator_class = _CountingCodeGenerator
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self):
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self.filters = {name: _bounded_filter(fn) if name in SIZE_FILTERS else fn for name, fn in self.filters.items()}
        self.filters["_counted"] = _counted

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        _spend()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise TemplateBudgetError(f"exponent {right!r} above {MAX_EXPONENT:,}; {LIMITS}")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_CHARS:
                    raise TemplateBudgetError(f"'*' would make {len(seq) * times:,} items; {LIMITS}")
        return super().call_binop(context, operator, left, right)


TEMPLATES = BoundedSandbox()


@functools.lru_cache(maxsize=512)
def compiled(text: str) -> Template:
    """A template compiled once per text (a run renders the same few texts for every account)."""
    return TEMPLATES.from_string(text)


def render(text: str, context: dict) -> str:
    """``text`` rendered with ``context`` within the budget; raises Jinja's errors (or Python's, from data)."""
    template = compiled(text)
    token = _BUDGET.set(_Budget(MAX_STEPS, time.monotonic() + MAX_SECONDS))
    try:
        out, size = [], 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_CHARS:
                raise TemplateBudgetError(f"output longer than {MAX_CHARS:,} characters; {LIMITS}")
            _spend(0)  # output is bounded by size; this checks the clock
            out.append(chunk)
        return "".join(out).strip()
    finally:
        _BUDGET.reset(token)
