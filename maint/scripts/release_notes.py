"""Draft release notes from commit subjects.

Commit subjects in this repository start with the module they touch
(``ioloop: ...``, ``web: ...``); this script groups the subjects since a
revision by that prefix and prints a reStructuredText section to paste into
``docs/releases/``.

Usage: python maint/scripts/release_notes.py [SINCE-REVISION] [--title TITLE]
"""

from __future__ import annotations

import argparse
import subprocess
from collections import defaultdict


def commit_subjects(since: str | None) -> list[str]:
    """Subjects of the commits after ``since`` (all commits if None), oldest first."""
    span = f"{since}..HEAD" if since else "HEAD"
    out = subprocess.run(
        ["git", "log", "--reverse", "--format=%s", span],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.splitlines() if line.strip()]


def group_by_module(subjects: list[str]) -> dict[str, list[str]]:
    """``{"ioloop": ["add ...", ...], "other": [...]}`` keyed by subject prefix."""
    groups: dict[str, list[str]] = defaultdict(list)
    for subject in subjects:
        prefix, sep, rest = subject.partition(": ")
        if sep and " " not in prefix:
            groups[prefix].append(rest)
        else:
            groups["other"].append(subject)
    return groups


def render(title: str, groups: dict[str, list[str]]) -> str:
    lines = [title, "=" * len(title), ""]
    for module in sorted(groups, key=lambda m: (m == "other", m)):
        heading = f"``tornado.{module}``" if module != "other" else "Other changes"
        lines += [heading, "-" * len(heading), ""]
        lines += [f"- {entry[0].upper()}{entry[1:]}" for entry in groups[module]]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("since", nargs="?", help="revision to start after")
    parser.add_argument("--title", default="What's new in the next release")
    args = parser.parse_args()
    print(render(args.title, group_by_module(commit_subjects(args.since))))


if __name__ == "__main__":
    main()
