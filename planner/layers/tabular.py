"""The rows of a table file as its author wrote them: CSV in any dialect, spreadsheets, the UCDP API's JSON.

Every cell comes back as text (None when blank), with ``source_row``, the row as a user finds it in the file
(the CSV line, the spreadsheet row), and ``read_as``: how the file was read (format, encoding, separator,
decimal mark, sheet), which ``primum validate`` reports so nobody has to guess.

- **Encoding**: UTF-8 with or without a byte order mark, UTF-16 (Excel's "Unicode text"), else told apart
  among the Western single-byte encodings field files use (cp1252, latin-1) by charset-normalizer. Other
  encodings are never guessed: ``encoding:`` names them.
- **Separator**: ``,`` ``;`` tab or ``|``, detected by CleverCSV from the file's first lines (``sep:`` when it
  cannot decide).
- **Decimal mark**: settled once per file by :mod:`planner.layers.numbers` (``decimal:`` when it cannot).
- **Spreadsheets** (XLSX, ODS): read by GDAL's own drivers with every cell as text; the first sheet unless
  ``sheet:`` names another.
- **Rows that cannot be read** (a line with more or fewer fields than the header, as a file cut short
  leaves) are listed with their line, for the layer reader to drop or refuse.
- **Rows a reader does not want** (reports far from the study area): a ``choose`` function sees the columns it
  asks for and says which rows to keep; in a plain CSV only those columns are made Python text for every
  row, the others for the rows kept, so a national table costs little more than its parse.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
from pyarrow import csv as pa_csv

from planner.errors import Collector, DataIOError
from planner.layers.numbers import decimal_mark

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
SPREADSHEET_SUFFIXES = {".xlsx", ".ods"}
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Single-byte encodings that field files are written in; anything else must be named with `encoding:`.
WESTERN_ENCODINGS = ["cp1252", "latin_1"]
SNIFF_CHARS = 64_000
_SPACE_LINE = re.compile(rb"\n[ \t]+(?:\r?\n|$)")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ENCODING_FIX = (
    "save it as UTF-8 (in Excel: Save As > 'CSV UTF-8'), or name its encoding in the manifest, e.g. `encoding: cp1252`"
)


# Which rows to keep, from the columns it asks for (by name, as text cells): a boolean mask, or None for all.
Choose = Callable[[list[str], Callable[[str], pd.Series]], "np.ndarray | None"]


@dataclass
class Rows:
    """A table's cells as text, where each row came from, how the file was read, and the rows it could not."""

    frame: pd.DataFrame
    hxl: dict[str, str]
    decimal: str
    read_as: dict[str, str] = field(default_factory=dict)
    ragged: dict[int, str] = field(default_factory=dict)  # line -> why it cannot be read


def is_table_file(path: Path) -> bool:
    return path.suffix.lower() in CSV_SUFFIXES | SPREADSHEET_SUFFIXES or is_api_json(path)


def read_rows(
    path: Path,
    problems: Collector,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    choose: Choose | None = None,
) -> Rows | None:
    """The rows of a CSV, spreadsheet or UCDP API JSON file; problems go to ``problems``, None when unusable.
    With ``choose``, only the rows it keeps (an HXL tag row is always kept)."""
    suffix = path.suffix.lower()
    ragged: dict[int, str] = {}
    chosen = False
    if suffix in SPREADSHEET_SUFFIXES:
        frame, read_as = _spreadsheet(path, sheet, problems)
        lines = np.arange(2, 2 + len(frame)) if frame is not None else None  # row 1 is the header
    elif suffix in CSV_SUFFIXES:
        raw = path.read_bytes()
        text, encoding_name = _decode(raw, encoding, problems)
        if text is None:
            return None
        delimiter = sep or ("\t" if suffix == ".tsv" else _sniff_separator(text))
        # A UTF-8 file's bytes are already what Arrow reads: decoding proved them valid, no copy is needed
        data = raw if encoding_name == "UTF-8" else text.encode("utf-8")
        # A national table's text is tens of megabytes: Arrow reads the bytes, the careful reading decodes them
        del raw, text
        fast = _plain_csv(data, delimiter, choose)
        if fast is not None:
            frame, lines = fast
            chosen = True
        else:
            frame, lines, ragged = _csv(data.decode("utf-8"), delimiter, problems)
        del data
        read_as = {"format": "csv", "encoding": encoding_name, "separator": SEPARATOR_NAMES.get(delimiter, delimiter)}
    else:
        frame, read_as = _api_json(path, problems)
        lines = np.arange(1, 1 + len(frame)) if frame is not None else None  # rows counted from 1
    if frame is None or lines is None:
        return None
    hxl: dict[str, str] = {}
    if len(frame) and is_hxl_row(frame.iloc[0]):
        hxl = {hxl_base(v): col for col, v in frame.iloc[0].items() if isinstance(v, str) and v.startswith("#")}
        frame, lines = frame.iloc[1:].reset_index(drop=True), lines[1:]
        read_as["hxl"] = "yes"
    if choose is not None and not chosen:
        keep = choose(list(frame.columns), frame.__getitem__)
        if keep is not None:
            frame, lines = frame[keep].reset_index(drop=True), lines[keep]
    frame.insert(0, "source_row", lines)
    mark, doubt = decimal_mark(frame.drop(columns="source_row"), decimal)
    if doubt is not None:
        problems.add("decimal", f"the file {doubt}", "say which is the decimal mark: `decimal: ','` or `decimal: '.'`")
        return None
    read_as["decimal"] = "comma" if mark == "," else "point"
    return Rows(frame, hxl, mark, read_as, ragged)


def _decode(raw: bytes, declared: str | None, problems: Collector) -> tuple[str | None, str]:
    if declared is not None:
        try:
            return raw.decode(declared), declared
        except LookupError:
            problems.add("encoding", f"unknown encoding '{declared}'", "use a Python codec name, e.g. cp1252, latin-1")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            problems.add(
                f"line {line}",
                f"the file is not {declared} (byte 0x{raw[exc.start]:02x} cannot be decoded)",
                "correct `encoding:`, or remove it to let Primum tell",
            )
        return None, declared
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "UTF-8 with byte order mark"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "UTF-16"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    import charset_normalizer  # noqa: PLC0415 (only for files that are not UTF-8: it takes a tenth of a second to load)

    best = charset_normalizer.from_bytes(raw, cp_isolation=WESTERN_ENCODINGS).best()
    # latin-1 decodes any bytes at all: text with control characters in it was some other encoding
    if best is None or _CONTROL.search(str(best)):
        line = raw[:first_bad].count(b"\n") + 1
        problems.add(
            f"line {line}",
            f"the file is not UTF-8 (byte 0x{raw[first_bad]:02x} cannot be decoded) and is not cp1252 or latin-1",
            ENCODING_FIX,
        )
        return None, ""
    return str(best), best.encoding.replace("_", "-")


def _sniff_separator(text: str) -> str:
    """The separator: the only candidate in the header line if it holds one (names seldom hold separators),
    else CleverCSV's reading of the first lines, else the candidate the header uses most."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    header = sample.split("\n", 1)[0]
    present = [s for s in SEPARATORS if s in header]
    if len(present) <= 1:
        return present[0] if present else ","  # one column: the separator does not matter
    import clevercsv  # noqa: PLC0415 (only when the header leaves a doubt: it takes a quarter second to load)

    try:
        dialect = clevercsv.Detector().detect(sample, delimiters=list(SEPARATORS))
    except clevercsv.Error:
        dialect = None
    if dialect is None or dialect.delimiter not in SEPARATORS:
        return max(SEPARATORS, key=header.count)
    return str(dialect.delimiter)


def _csv(text: str, sep: str, problems: Collector) -> tuple[pd.DataFrame | None, np.ndarray | None, dict[int, str]]:
    """The cells of a CSV and the line each row starts on; rows with more or fewer fields than the header
    are returned by line as ragged (longer ones are not read at all; shorter ones are read, for the layer
    reader to drop)."""
    starts, ragged = _records(text, sep)
    longer = [line for line, why in ragged.items() if why.startswith("has ")]
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skiprows=[line - 1 for line in longer],
        )
    except pd.errors.EmptyDataError:
        problems.add("", "the file is empty", "export the table again")
        return None, None, ragged
    except pd.errors.ParserError as exc:
        problems.add("", f"cannot be read as CSV ({exc})", "check the separator (`sep:`) and quoting")
        return None, None, ragged
    skipped = set(longer)
    kept = [line for line in starts if line not in skipped]
    lines = np.array(kept) if len(kept) == len(frame) else np.arange(2, 2 + len(frame))
    frame = frame.replace({"": None}).astype(object)
    return frame.where(frame.notna(), None), lines, ragged


def _plain_csv(data: bytes, sep: str, choose: Choose | None = None) -> tuple[pd.DataFrame, np.ndarray] | None:
    """A CSV (``data``, its text in UTF-8) whose every record is one line with the header's number of fields,
    read by Arrow's parser (in C++, on both cores) into the same cells and lines as the careful reading below;
    None for any other file (a cell holding a line break, a ragged or blank-only line, a space before a quote,
    a lone carriage return, a header with a blank or repeated name), which the careful reading then takes.
    With ``choose``, the columns it asks for are given to it as Arrow text, and only the rows it keeps are
    made Python text."""
    # Each test below is one pass over the file (a national table is tens of megabytes): single bytes and
    # regular expressions anchored on a line break, which are searched several times faster than a string.
    # A quoted cell after a space (pandas skips the space and reads the quotes, Arrow would not) needs no pass
    # of its own: Arrow reads that cell as beginning with a space, and a file with quotes and such a cell is
    # refused below.
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone carriage return ends a line for one reader and not the other
    if _SPACE_LINE.search(data):
        return None  # a line of spaces is blank to pandas, a row to Arrow
    first = data.find(b"\n")
    try:
        header_line = data[: first if first >= 0 else len(data)].decode("utf-8").rstrip("\r")
        header = next(csv.reader([header_line], delimiter=sep, skipinitialspace=True))
    except (StopIteration, csv.Error):
        return None
    if not header or any(not name.strip() for name in header) or len(set(header)) != len(header):
        return None
    invalid: list[object] = []

    def refuse(row: object) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True, invalid_row_handler=refuse),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    lines = _record_lines(data)
    # As many records as lines that are not blank: no record spans two lines (a record that did would start
    # and end on two lines that are not blank, so there would be more lines than records)
    if invalid or len(lines) != table.num_rows:
        return None
    quoted = b'"' in data
    cells = table.columns
    del table  # each column's buffers are freed as its cleaned copy replaces it
    for i, column in enumerate(cells):
        if pc.any(pc.starts_with(column, " ")).as_py():
            if quoted:
                return None  # pandas keeps the spaces a quoted cell begins with and skips the others
            column = pc.utf8_ltrim(column, characters=" ")  # noqa: PLW2901 (as pandas' skipinitialspace)
        cells[i] = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    named = dict(zip(header, cells, strict=True))
    del cells
    keep = choose(header, lambda name: pd.Series(pd.arrays.ArrowStringArray(named[name]))) if choose else None
    if keep is not None:
        keep = np.asarray(keep, dtype=bool).copy()
        if len(keep) and is_hxl_row(pd.Series([named[name][0].as_py() for name in header], dtype=object)):
            keep[0] = True  # the tag row names the columns
        mask = pa.array(keep)
        named = {name: column.filter(mask) for name, column in named.items()}
        lines = lines[keep]
    columns = {}
    for name in header:
        columns[name] = _objects(named.pop(name))
    return pd.DataFrame(columns, dtype=object), lines


def _record_lines(data: bytes) -> np.ndarray:
    """The lines after the header that are not blank (a blank line is skipped by every reader)."""
    if not _BLANK_LINE.search(data):
        count = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)  # lines, the header's included
        return np.arange(2, count + 1)
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    starts = np.concatenate([[0], ends + 1])
    lengths = np.concatenate([ends, [len(data)]]) - starts
    blank = lengths == 0
    single = np.flatnonzero(lengths == 1)
    blank[single] = np.frombuffer(data, dtype=np.uint8)[starts[single]] == ord("\r")
    lines = np.flatnonzero(~blank) + 1
    return lines[lines > 1]


def _objects(cells: pa.ChunkedArray) -> np.ndarray:
    """A column as Python strings (None when blank). A column of few distinct values (types, actors, dates)
    makes each value once and shares it: most of the time and memory of a large table is its strings."""
    if len(cells) > 1_000 and pc.count_distinct(cells.slice(0, 1_000)).as_py() < 250:
        coded = pc.dictionary_encode(cells).combine_chunks()
        values = np.append(coded.dictionary.to_numpy(zero_copy_only=False), np.array([None], dtype=object))
        return values[coded.indices.fill_null(len(coded.dictionary)).to_numpy()]
    return cells.to_numpy(zero_copy_only=False)


def _records(text: str, sep: str) -> tuple[list[int], dict[int, str]]:
    """The line each record starts on (a quoted cell may hold line breaks), and the records whose number of
    fields is not the header's, by line."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
    header = next(reader, [])
    starts: list[int] = []
    ragged: dict[int, str] = {}
    previous = reader.line_num
    try:
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if not row:  # a blank line, which pandas skips too
                continue
            starts.append(start)
            if len(row) > len(header):
                ragged[start] = f"has {len(row)} fields, the header {len(header)}"
            elif len(row) < len(header):
                ragged[start] = f"has {len(row)} of the header's {len(header)} fields (cut short?)"
    except csv.Error:
        # A cell beyond the csv module's size limit: pandas reads the file and the layer's limits judge it
        return [], {}
    return starts, ragged


def _spreadsheet(path: Path, sheet: str | None, problems: Collector) -> tuple[pd.DataFrame | None, dict[str, str]]:
    kind = path.suffix.lower()[1:]
    try:
        sheets = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except pyogrio.errors.DataSourceError as exc:
        raise DataIOError(f"{path}: cannot be read as {kind.upper()} ({exc})") from exc
    if not sheets:
        problems.add("", "the workbook has no sheet with data", "save the table in the first sheet")
        return None, {}
    chosen = sheets[0] if sheet is None else sheet
    if chosen not in sheets:
        problems.add("sheet", f"no sheet '{sheet}' in the workbook", f"sheets are: {', '.join(sheets)}")
        return None, {}
    # Every cell as text, the first row as the header: the readers parse numbers and dates themselves, the
    # same way as in a CSV, so a number stored as text and one stored as a number read the same. (GDAL takes
    # these as configuration options; they touch nothing but its XLSX and ODS drivers.)
    pyogrio.set_gdal_config_options(
        {f"OGR_{kind.upper()}_HEADERS": "FORCE", f"OGR_{kind.upper()}_FIELD_TYPES": "STRING"}
    )
    frame = pyogrio.read_dataframe(path, layer=chosen, read_geometry=False)
    frame = pd.DataFrame(frame).astype(object)
    frame = frame.where(frame.notna(), None).map(lambda v: v.strip() or None if isinstance(v, str) else v)
    read_as = {"format": kind, "sheet": chosen}
    if len(sheets) > 1:
        read_as["other_sheets"] = ", ".join(s for s in sheets if s != chosen)
    return frame, read_as


def is_api_json(path: Path) -> bool:
    """A JSON file of rows under ``Result`` (the UCDP API's answer), rather than GeoJSON."""
    if path.suffix.lower() != ".json":
        return False
    with path.open("rb") as handle:
        head = handle.read(4096)
    return b'"Result"' in head and b'"FeatureCollection"' not in head


def _api_json(path: Path, problems: Collector) -> tuple[pd.DataFrame | None, dict[str, str]]:
    try:
        document = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.add("", f"cannot be read as JSON ({exc})", "download the file again; it may be cut short")
        return None, {}
    rows = document.get("Result") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        problems.add("Result", "holds no list of rows", "save the API's answer as it comes (`Result: [...]`)")
        return None, {}
    frame = pd.DataFrame(rows).astype(object)
    frame = frame.map(lambda v: None if v is None or v == "" else str(v))
    if document.get("NextPageUrl"):
        # A threat layer missing its other pages would read as calm where they are: refused, not cut
        problems.add(
            "NextPageUrl",
            f"the file is one page of {document.get('TotalPages', 'several')} of the API's answer",
            "download every page (or `pagesize=1000` until NextPageUrl is empty) and join their Result lists",
        )
        return None, {}
    return frame, {"format": "json rows (UCDP API)"}


def is_hxl_row(row: pd.Series) -> bool:
    values = [v for v in row.tolist() if isinstance(v, str) and v.strip()]
    return bool(values) and sum(v.strip().startswith("#") for v in values) >= max(1, len(values) // 2)


def hxl_base(tag: str) -> str:
    """'#affected +idps +ind' -> '#affected+idps+ind' (HXL allows spaces and attribute order varies)."""
    parts = tag.replace(" ", "").lower().split("+")
    return "+".join([parts[0], *sorted(parts[1:])]) if len(parts) > 1 else parts[0]
