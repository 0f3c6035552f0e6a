"""What each benchmark script does with its tables: print them, and write them to the file
``--markdown`` names, which bench/run_all.py gathers into bench/RESULTS.md."""

from __future__ import annotations


def emit(text: str, markdown: str | None) -> None:
    """Print ``text``, and write it to ``markdown`` when a path is given."""
    text = text.rstrip() + "\n"
    print(text)
    if markdown:
        with open(markdown, "w", encoding="utf-8") as file:
            file.write(text)
