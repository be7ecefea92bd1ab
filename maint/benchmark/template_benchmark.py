#!/usr/bin/env python3
"""Measure how fast tornado.template renders a realistic page.

The page extends a base layout, loops over 100 table rows, includes a
partial for each row and escapes user-supplied text.  Run from the
repository root::

    python maint/benchmark/template_benchmark.py [--seconds 3] [--repeat 3]

and it prints the best of ``--repeat`` measurements in renders per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from tornado.template import DictLoader, Template  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    template = DictLoader(TEMPLATES).load("orders.html")
    size = len(template.generate(**page_data()))
    rates = [renders_per_second(template, args.seconds) for _ in range(args.repeat)]
    print(f"page: 100 rows, {size} bytes of output")
    print(f"{max(rates):.0f} renders/sec (best of {args.repeat})")


if __name__ == "__main__":
    main()
