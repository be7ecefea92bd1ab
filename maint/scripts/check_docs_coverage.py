"""Fail if Sphinx's coverage report lists any undocumented public name.

Usage: python maint/scripts/check_docs_coverage.py PATH/TO/python.txt
"""

import re
import sys

HEADINGS = re.compile(r"^(Undocumented Python objects|Statistics|\| ?Module|TOTAL)")


def undocumented(report: str) -> list[str]:
    """The lines of the coverage report that name something undocumented."""
    lines = []
    for line in report.splitlines():
        stripped = line.strip()
        if not stripped or set(stripped) <= set("-=+|") or HEADINGS.match(stripped):
            continue
        if stripped.startswith("|"):
            # The statistics table: "| module | 100.00% | 0 |".
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if len(cells) == 3 and cells[2] not in ("0", "Undocumented"):
                lines.append(f"{cells[0]}: {cells[2]} undocumented")
            continue
        lines.append(stripped)
    return lines


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        missing = undocumented(f.read())
    for line in missing:
        print("undocumented:", line)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
