"""What the benchmark scripts share: their Markdown tables."""

from __future__ import annotations


def markdown(header, rows) -> str:
    """A Markdown table with ``header`` and one line per row (cells converted with str)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
