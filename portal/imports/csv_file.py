"""Reading an affected-persons CSV and reporting its problems.

The file is read as bytes and decoded line by line, so an undecodable byte is
reported with its line; a byte-order mark is skipped. Problems are reported as
``RowError`` (line, column, reason code) and written to the errors CSV, whose
cells can never become spreadsheet formulas.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TextIO

from portal.core.csv_cells import safe_cell
from portal.imports.rows import COLUMNS, N_, Record, reason_text

_COLUMN_NAME = re.compile(r"[a-z][a-z0-9_ ]{0,39}")
ERROR_HEADER = ("line", "column", "reason")


class Header(NamedTuple):
    """Where each of ``COLUMNS`` is in the file, and how many fields the header has."""

    positions: tuple[int, ...]
    width: int


class ImportFileError(Exception):
    """The file could not be processed at all (nothing was written).

    ``reason`` (an ``N_`` string) and ``params`` say why; ``parts`` are sub-reasons
    (``N_`` string, params) joined into ``%(problems)s``. ``str()`` is the English text
    (the command line, the log); ``record`` is kept with a failed upload, so its page
    says it in the reader's language (``file_error_text``). No value from the file's
    rows is ever in it.
    """

    def __init__(self, reason: str, params: dict | None = None, parts=()):
        self.record = {"reason": reason, "params": dict(params or {}),
                       "parts": [[part, dict(values)] for part, values in parts]}
        super().__init__(file_error_text(self.record))


def file_error_text(record: dict, gettext: Callable[[str], str] = str) -> str:
    """A kept ``ImportFileError.record`` as text, through ``gettext`` (English without)."""
    params = dict(record.get("params") or {})
    parts = record.get("parts") or []
    if parts:
        params["problems"] = "; ".join(gettext(part) % values for part, values in parts)
    return gettext(record["reason"]) % params


@dataclass
class RowError:
    """One problem of one row; ``text`` is English, ``code``/``params`` translate it."""

    line: int
    column: str
    code: str
    params: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return reason_text(self.code, self.params)


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)  # the first MAX_KEPT_ERRORS

    def line(self) -> str:
        """The one-line summary the command prints."""
        return (
            f"imported {self.imported}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )

    def counts(self) -> dict:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }



class ErrorWriter:
    """Writes the errors CSV (line, column, reason; never a value from the file)."""

    def __init__(self, out: TextIO | None):
        self._writer = csv.writer(out) if out is not None else None
        if self._writer is not None:
            self._writer.writerow(ERROR_HEADER)

    def write(self, error: RowError) -> None:
        if self._writer is not None:
            self._writer.writerow([safe_cell(error.line), safe_cell(error.column),
                                   safe_cell(error.text)])


# --- reading ---------------------------------------------------------------------------


def _decoded_lines(handle, progress: Callable[[int], None] | None) -> Iterator[str]:
    """Decode a binary file line by line, naming the line of any undecodable bytes."""
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                N_("line %(line)d: the file is not UTF-8 (undecodable byte at position "
                   "%(position)d of the line); save it as UTF-8 and try again"),
                {"line": number, "position": exc.start + 1}) from None
        if progress is not None:
            progress(len(raw))
        yield text


def read_header(path: Path) -> Header:
    """Check the header: returns each column's position and the number of fields."""
    with path.open("rb") as handle:
        lines = _decoded_lines(handle, None)
        try:
            header = next(csv.reader(lines))
        except StopIteration:
            raise ImportFileError(N_("the file is empty; expected a header line")) from None
        except csv.Error as exc:
            raise ImportFileError(N_("line 1: the header is not valid CSV (%(reason)s)"),
                                  {"reason": str(exc)}) from None
    names = [name.strip().lower() for name in header]
    expected = ",".join(COLUMNS)
    if not any(name in COLUMNS for name in names):
        # Probably a file without a header: its first line is a person, never echo it.
        raise ImportFileError(
            N_("line 1: no header found; the first line must name the columns: %(expected)s"),
            {"expected": expected})
    missing = [name for name in COLUMNS if name not in names]
    unknown = [name for name in names if name not in COLUMNS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    problems = []
    if missing:
        problems.append((N_("missing columns: %(names)s"), {"names": ", ".join(missing)}))
    if unknown:
        # Names that look like column names are shown; anything else might be data.
        shown = [repr(name) for name in unknown if _COLUMN_NAME.fullmatch(name)]
        hidden = len(unknown) - len(shown)
        if hidden and shown:
            problems.append((N_("unknown columns: %(names)s and %(hidden)d more not shown"),
                             {"names": ", ".join(shown), "hidden": hidden}))
        elif hidden:
            problems.append((N_("unknown columns: %(hidden)d not shown"), {"hidden": hidden}))
        else:
            problems.append((N_("unknown columns: %(names)s"), {"names": ", ".join(shown)}))
    if repeated:
        problems.append((N_("repeated columns: %(names)s"), {"names": ", ".join(repeated)}))
    if problems:
        raise ImportFileError(N_("line 1: wrong header (%(problems)s). Expected: %(expected)s"),
                              {"expected": expected}, problems)
    return Header(tuple(names.index(name) for name in COLUMNS), len(names))


def check_file(path: Path) -> Header:
    """First pass: the header is right and every line is UTF-8."""
    if not path.is_file():
        raise ImportFileError(N_("no such file: %(path)s"), {"path": str(path)})
    header = read_header(path)
    if not _is_utf8(path):
        with path.open("rb") as handle:
            for _line in _decoded_lines(handle, None):  # raises, naming the line
                pass
    return header


def _is_utf8(path: Path) -> bool:
    """Decode the whole file in large chunks (a newline never splits a UTF-8 sequence,
    so this accepts exactly the files whose every line decodes)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def records(path: Path, progress) -> Iterator[Record]:
    """Each record after the header, with its first line number.

    Blank lines are skipped. A record the CSV reader cannot parse (a NUL byte,
    a stray quote) comes out with the reason as its fields, so it is reported, not lost.
    """
    with path.open("rb") as handle:
        reader = csv.reader(_decoded_lines(handle, progress), strict=True)
        next(reader)
        start = reader.line_num + 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Record(start, str(exc))
            else:
                if len(fields) > 1 or (fields and fields[0].strip()):
                    yield Record(start, fields)
            start = reader.line_num + 1


def in_line_order(errors_text: str) -> str:
    """The errors CSV with its rows sorted by line (batches finish out of order)."""
    rows = list(csv.reader(io.StringIO(errors_text)))
    if len(rows) < 3:
        return errors_text
    header, body = rows[0], rows[1:]
    body.sort(key=lambda row: int(row[0]) if row and row[0].isdigit() else 0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue()


def errors_csv(errors: list[RowError]) -> str:
    """An errors CSV as text (for a handful of errors kept in memory)."""
    out = io.StringIO()
    writer = ErrorWriter(out)
    for error in errors:
        writer.write(error)
    return out.getvalue()


class SeenRefs:
    """The external_refs met so far in a file, each with the line it was first on.

    An open-addressing hash table of 64-bit digests in two flat arrays: about
    24 bytes per row (a dict of strings would take over 100), so a file of
    ten million rows needs some 240 MB at most rather than gigabytes.
    """

    def __init__(self, capacity: int = 1 << 16):
        self._keys = array("Q", bytes(8 * capacity))
        self._lines = array("Q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._count = 0

    @staticmethod
    def _digest(ref: str) -> int:
        value = int.from_bytes(hashlib.blake2b(ref.encode(), digest_size=8).digest(), "big")
        return value or 1  # 0 marks an empty slot

    def add(self, ref: str, line: int) -> int | None:
        """Remember ``ref`` at ``line``; if it was seen before, return that line instead."""
        key = self._digest(ref)
        slot = key & self._mask
        keys = self._keys
        while keys[slot]:
            if keys[slot] == key:
                return self._lines[slot]
            slot = (slot + 1) & self._mask
        keys[slot] = key
        self._lines[slot] = line
        self._count += 1
        if self._count * 2 > self._mask:
            self._grow()
        return None

    def _grow(self) -> None:
        old = zip(self._keys, self._lines, strict=True)
        capacity = (self._mask + 1) * 2
        self._keys = array("Q", bytes(8 * capacity))
        self._lines = array("Q", bytes(8 * capacity))
        self._mask = capacity - 1
        for key, line in old:
            if key:
                slot = key & self._mask
                while self._keys[slot]:
                    slot = (slot + 1) & self._mask
                self._keys[slot] = key
                self._lines[slot] = line

    def __len__(self) -> int:
        return self._count
