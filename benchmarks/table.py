"""Printing a benchmark's results as one Markdown table, headed by the machine it ran on."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title} on {platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()})\n")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
