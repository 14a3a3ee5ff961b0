"""The task-template sandbox: ordinary templates render, runaway ones stop on a count, never on a clock."""
from __future__ import annotations

import pytest

from customer_health.config.templates import MAX_STEPS, TemplateBudgetError, render

CONTEXT = {"drivers": [{"measure": "seat_utilisation", "change": -8.0}, {"measure": "logins_30d", "change": -3.5}],
           "arr": 48000, "name": "Daikoku Shoji"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{% for d in drivers %}{{ d.measure }} ({{ d.change }}){% if not loop.last %}, {% endif %}{% endfor %}",
         "seat_utilisation (-8.0), logins_30d (-3.5)"),
        ("{{ drivers | map(attribute='measure') | join(' / ') }}", "seat_utilisation / logins_30d"),
        ("{{ '%.1f' | format(arr / 1000) }}k {{ name | truncate(7, true, '', 0) }} {{ 'ab' * 3 }} {{ 2 ** 10 }}",
         "48.0k Daikoku ababab 1024"),
        ("{% for i in range(3) %}{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}", "1/3 2/3 3/3"),
        (f"{{% for i in range({MAX_STEPS // 2}) %}}{{% endfor %}}done", "done"),  # half the budget is fine
    ],
)
def test_ordinary_templates_render(template, expected):
    assert render(template, CONTEXT) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
         "more than 10,000 loop iterations and calls"),
        ("{% for i in range(100000) if i < 0 %}{% endfor %}", "more than 10,000 loop iterations and calls"),
        ("{% for x in [1, 1] recursive %}{% if x < 30 %}{{ loop([x + 1, x + 1]) }}{% endif %}{% endfor %}",
         "more than 10,000 loop iterations and calls"),
        ("{{ 'x' * 100000000 }}", "'*' would make 100,000,000 items"),
        ("{{ [0] * 100000000 }}", "'*' would make 100,000,000 items"),
        ("{{ 2 ** 100000000 }}", "exponent 100000000 above 1,000"),
        ("{{ name | center(1000000000) }}", "filter do_center given 1000000000"),
        ("{{ '%1000000000d' | format(1) }}", "format width 1,000,000,000"),
        ("{% for i in range(30000) %}{% endfor %}", "more than 10,000 loop iterations"),
        ("{% for i in range(9000) %}{{ name }}{% endfor %}", "output longer than 20,000 characters"),
    ],
)
def test_runaway_templates_stop_naming_the_limit(template, expected):
    with pytest.raises(TemplateBudgetError) as error:
        render(template, CONTEXT)
    assert expected in str(error.value)
    assert "a template may take at most 10,000 loop iterations and calls, write 20,000 characters and run 1 s" \
        in str(error.value)


def test_each_render_has_its_own_budget():
    """The budget is per render, not per process: many ordinary renders in a row never run out."""
    template = "{% for d in drivers %}{{ d.measure }}{% endfor %}"
    assert [render(template, CONTEXT) for _ in range(MAX_STEPS)][-1] == "seat_utilisationlogins_30d"


def test_endless_recursion_fails_at_once():
    """A macro calling itself hits Python's recursion limit long before the step budget: an error, not a hang."""
    with pytest.raises(RecursionError):
        render("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}", CONTEXT)
