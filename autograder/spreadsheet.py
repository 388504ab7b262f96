"""Keeping students' text inert when instructors open our CSV files."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """Text a spreadsheet shows as text: a would-be formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def guard_text_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``frame`` whose text ``columns`` are safe to open in a spreadsheet."""
    frame = frame.copy()
    for column in columns:
        if column in frame.columns:
            frame[column] = [
                spreadsheet_text(v) if isinstance(v, str) else v for v in frame[column]
            ]
    return frame
