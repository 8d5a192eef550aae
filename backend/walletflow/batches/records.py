"""Reading a bulk file one record at a time: CSV with a header, or JSON Lines.

Files are bounded in size and streamed, never loaded whole into memory; each record comes with
its 1-based line number, so every error names the line (and the field) that is wrong.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from walletflow.domain.errors import ValidationError

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_RECORD_BYTES = 64 * 1024
"""One CSV field or one JSON line longer than this is refused (not read into memory whole)."""
SUFFIXES = (".csv", ".jsonl")
_DIGEST_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class LineError:
    """Why one line of a file cannot be applied."""

    line: int
    code: str
    message: str
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "code": self.code, "message": self.message}

    def describe(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.code}: {self.message}"


def refuse(message: str, field: str = "file") -> ValidationError:
    return ValidationError(message, field_errors={field: message})


def check_file(path: Path) -> None:
    """The file exists, has a known format and is within MAX_FILE_BYTES (else ValidationError)."""
    if path.suffix.lower() not in SUFFIXES:
        raise refuse(f"{path.name}: a bulk file is {' or '.join(SUFFIXES)}")
    if not path.is_file():
        raise refuse(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise refuse(f"{path.name} is {size} bytes; at most {MAX_FILE_BYTES}")


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes, read in chunks: the file's identity for idempotency keys."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_DIGEST_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def records(
    path: Path, *, required: frozenset[str] = frozenset()
) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    """(line number, record or the line's error), streamed. CSV: the header names the fields
    and must hold every `required` column (else ValidationError naming the missing ones);
    empty cells are absent fields. JSONL: one JSON object per line; blank lines are skipped."""
    check_file(path)
    if path.suffix.lower() == ".csv":
        yield from _csv_records(path, required)
    else:
        yield from _jsonl_records(path)


def _csv_records(
    path: Path, required: frozenset[str]
) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    csv.field_size_limit(MAX_RECORD_BYTES)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise refuse(f"{path.name} is empty: a CSV bulk file starts with a header") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise refuse(f"{path.name}, line 1: unreadable header ({error})") from None
        missing = sorted(required - set(header))
        if missing:
            raise refuse(f"{path.name}: the header lacks {', '.join(missing)}")
        if len(set(header)) != len(header) or "" in header:
            raise refuse(f"{path.name}: the header has empty or repeated column names")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as error:
                yield reader.line_num, LineError(reader.line_num, "MALFORMED_LINE", str(error))
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield (
                    reader.line_num,
                    LineError(
                        reader.line_num,
                        "MALFORMED_LINE",
                        f"{len(row)} cells, the header has {len(header)}",
                    ),
                )
                continue
            yield (
                reader.line_num,
                {
                    name: cell.strip()
                    for name, cell in zip(header, row, strict=True)
                    if cell.strip()
                },
            )


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(_bounded_lines(handle), start=1):
            if raw is None:
                yield (
                    number,
                    LineError(number, "MALFORMED_LINE", f"longer than {MAX_RECORD_BYTES} bytes"),
                )
                continue
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as error:
                yield number, LineError(number, "MALFORMED_LINE", f"not JSON: {error}")
                continue
            if not isinstance(value, dict):
                yield number, LineError(number, "MALFORMED_LINE", "a line is one JSON object")
                continue
            yield number, value


def _bounded_lines(handle: Any) -> Iterator[bytes | None]:
    """Each line's bytes, or None for a line over MAX_RECORD_BYTES (skipped, not buffered)."""
    while True:
        line = handle.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            while True:
                rest = handle.readline(MAX_RECORD_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield line
