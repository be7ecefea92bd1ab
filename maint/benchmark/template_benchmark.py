#!/usr/bin/env python3
"""Measure how fast tornado.template renders a realistic page.

The page extends a base layout, loops over 100 table rows, includes a
partial for each row and escapes user-supplied text.  Each of ``--rounds``
measurements renders for about ``--seconds``; the best one is reported in
renders per second, with the size of the page.  There are no targets.  Run
from anywhere::

    python maint/benchmark/template_benchmark.py [--seconds=3] [--rounds=3] [--json]
"""

from __future__ import annotations

import sys
import time

import _harness

from tornado.template import DictLoader, Template

TEMPLATES = {
    "base.html": """<!DOCTYPE html>
<html>
<head>
  <title>{% block title %}Shop{% end %}</title>
  <link rel="stylesheet" href="/static/site.css">
</head>
<body>
  <header><h1>{{ site_name }}</h1><p>Signed in as {{ user["name"] }}</p></header>
  <main>{% block content %}{% end %}</main>
  <footer>{% block footer %}&copy; {{ year }} {{ site_name }}{% end %}</footer>
</body>
</html>
""",
    "orders.html": """{% extends "base.html" %}
{% block title %}Orders for {{ user["name"] }}{% end %}
{% block content %}
<table>
  <tr><th>#</th><th>Item</th><th>Note</th><th>Price</th><th></th></tr>
  {% for index, order in enumerate(orders) %}
    {% include "row.html" %}
  {% end %}
</table>
<p>Total: {{ "%.2f" % sum(order["price"] for order in orders) }}</p>
{% end %}
""",
    "row.html": """<tr class="{{ "odd" if index % 2 else "even" }}">
  <td>{{ order["id"] }}</td>
  <td><a href="/items/{{ url_escape(order["item"]) }}">{{ order["item"] }}</a></td>
  <td>{{ order["note"] }}</td>
  <td>{{ "%.2f" % order["price"] }}</td>
  <td>{% if order["shipped"] %}shipped{% else %}<b>pending</b>{% end %}</td>
</tr>
""",
}


def page_data() -> dict[str, object]:
    """Keyword arguments for one render: 100 orders with text to escape."""
    orders = [
        {
            "id": 1000 + i,
            "item": f"Widget <{i}> & gadget",
            "note": 'Leave at the "back" door' if i % 3 else "",
            "price": 9.99 + i,
            "shipped": i % 4 != 0,
        }
        for i in range(100)
    ]
    return {
        "site_name": "Tom & Jerry's",
        "user": {"name": "<script>alert(1)</script>"},
        "year": 2025,
        "orders": orders,
    }


def renders_per_second(template: Template, seconds: float) -> float:
    """Render repeatedly for about ``seconds`` and return the rate."""
    kwargs = page_data()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            template.generate(**kwargs)
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> int:
    parser = _harness.common_options(
        __doc__.split("\n")[0],
        rounds=3,
        rounds_help="measurements (the best counts)",
        loop=False,
    )
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="duration of each measurement"
    )
    args = parser.parse_args()

    template = DictLoader(TEMPLATES).load("orders.html")
    size = len(template.generate(**page_data()))
    rates = [renders_per_second(template, args.seconds) for _ in range(args.rounds)]
    report = _harness.Report(f"template rendering (best of {args.rounds})")
    report.add("page size (100 rows)", size, "bytes")
    report.add("renders per second", max(rates), "renders/s")
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
