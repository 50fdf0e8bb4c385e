"""Numbers as field tables write them: decimal point or comma, thousands grouped by comma, point or space.

A French Excel save writes ``4,8512`` for a coordinate and ``1 200`` (often with a non-breaking space) for a
count; an English one ``4.8512`` and ``1,200``. Read cell by cell with one fixed convention, the first is
unreadable and a count like ``1.200`` would become one person. So the decimal mark is settled once per file
(:func:`decimal_mark`, from the cells that can only be read one way) and every number of the file is read with
it (:func:`parse_numbers`); a file that writes decimals both ways is refused with the key that settles it.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# A decimal that can only be one: a mark followed by other than exactly three digits ('4,85', '31.5901').
# '1,200' or '1.200' could be a thousands group or a decimal and says nothing about the file.
_COMMA_DECIMAL = re.compile(r"^[-+]?\d+,(?:\d{1,2}|\d{4,})$")
_POINT_DECIMAL = re.compile(r"^[-+]?\d+\.(?:\d{1,2}|\d{4,})$")
_SPACES = re.compile(r"(?<=\d)[ \u00a0\u202f\u2009](?=\d{3}(?:\D|$))")
_GROUPED = {
    ".": re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"),
    ",": re.compile(r"^[-+]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$"),
}
SAMPLE_ROWS = 5_000


def decimal_mark(frame: pd.DataFrame, declared: str | None = None) -> tuple[str, str | None]:
    """The file's decimal mark ('.' or ','), and why it cannot be told when it cannot.

    Reads the cells of text columns (a sample of rows) that can only be one convention. A file with none
    ('1,200' alone, or integers only) reads with the point, which is what it would mean either way for the
    integers; a file with both is a problem to settle with ``decimal:``.
    """
    if declared is not None:
        return declared, None
    sample = frame.head(SAMPLE_ROWS)
    texts = [c for c in sample.columns if sample[c].dtype == object or pd.api.types.is_string_dtype(sample[c])]
    if not texts:
        return ".", None
    # Every text cell of the sample in one column (with its column's name), tested in one pass per pattern
    cells = sample[texts].stack().astype(str).str.strip()
    cells = cells[cells.str.contains(r"\d[.,]\d", regex=True)]
    comma, point = cells[cells.str.match(_COMMA_DECIMAL)], cells[cells.str.match(_POINT_DECIMAL)]
    if len(comma) and len(point):
        return ".", (
            f"writes decimals with a comma ('{comma.iloc[0]}' in '{comma.index[0][1]}') and with a point "
            f"('{point.iloc[0]}' in '{point.index[0][1]}')"
        )
    return ("," if len(comma) else "."), None


def _plain_numbers(values: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series] | None:
    """With the point as decimal mark, the cells a plain conversion reads ('4.8512', '-12') mean just that:
    any cell the careful reading would change (a group, a dash, a comma) is no plain number. So the column is
    read in one vectorised pass, and only the cells it cannot read are read carefully. None with the comma."""
    if decimal != ".":
        return None
    try:
        # Arrow's parser in one C++ pass reads a column of plain numbers as pandas would, several times faster;
        # a column with any cell it does not read ('1,200', ' 5', a number stored as a number) goes to pandas
        cells = (
            pa.array(values.array)  # text already in Arrow: no copy
            if isinstance(values.dtype, pd.StringDtype)
            else pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        )
        numbers = pd.Series(pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False), index=values.index)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        numbers = pd.to_numeric(values, errors="coerce").astype(float)
    left = numbers.isna() & values.notna()
    if not left.any():
        return numbers, pd.Series(False, index=values.index)
    careful, unreadable = _careful_numbers(values[left], decimal)
    numbers[left] = careful
    return numbers, unreadable.reindex(values.index, fill_value=False)


def parse_numbers(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    """Numbers of a column and the mask of cells that hold text but no number; blanks stay NaN.

    Thousands groups are taken off where they are unmistakable: spaces (plain, non-breaking, thin) between
    digit groups, and the other mark than ``decimal`` in groups of three ('1,200' with '.', '1.200' with ',').
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float)
        return numbers, pd.Series(False, index=values.index)
    plain = _plain_numbers(values, decimal)
    return plain if plain is not None else _careful_numbers(values, decimal)


def _careful_numbers(values: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series]:
    raw = values.astype(object)
    text = raw.where(raw.notna(), "").astype(str).str.strip()
    # A lone dash is how spreadsheets (accounting format) and humanitarian tables write "nothing here": read
    # as no figure, which the readers flag as unknown, rather than as a zero nobody counted
    text = text.where(~text.isin(["-", "–", "—", "--"]), "")
    present = text != ""
    cleaned = text.str.replace(_SPACES, "", regex=True)
    grouped = cleaned.str.match(_GROUPED[decimal])
    other = "," if decimal == "." else "."
    cleaned = cleaned.where(~grouped, cleaned.str.replace(other, "", regex=False))
    if decimal == ",":
        # a point left now is not this file's decimal mark: the cell is unreadable, not a decimal
        cleaned = cleaned.where(~cleaned.str.contains(".", regex=False), "not a number")
        cleaned = cleaned.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(cleaned.where(present, None), errors="coerce").astype(float)
    unreadable = present & numbers.isna()
    return numbers, unreadable.astype(bool)
