"""The results file of ``mediation sweep``: JSON Lines, CSV or Parquet, streamed and resumable.

Every format starts with a header naming the sweep that made it::

    {"mediation_sweep": {"format": "1.0", "case_id": ..., "case_sha256": ...,
                         "sweep_sha256": ..., "scenarios": ..., "engine_version": ...,
                         "columns": [...]}}

``.jsonl``
    The header on the first line, then one JSON object per scenario, keys in the order of
    ``columns``. Read it with ``[json.loads(line) for line in lines[1:]]``.
``.csv``
    The header as a comment line (``# mediation_sweep {...}``), the column names, one row per
    scenario; null is an empty field. Read it with ``pandas.read_csv(path, skiprows=1)``.
``.parquet``
    Columns typed (int64 for the numbers, float64, string) and the header in the schema's
    key-value metadata under ``mediation_sweep``. A Parquet file is only readable once its
    footer is written, so the rows stream to a journal beside it (``<name>.journal.jsonl``,
    in the JSON Lines format) and are converted, in row groups of :data:`ROW_GROUP` rows,
    when the sweep ends or is interrupted; the journal is removed once the sweep is complete.

Rows are written in scenario order, each flushed as it comes, so an interrupted sweep
leaves a valid file holding a prefix of the complete one. ``--resume`` checks the header (the
same case and sweep, by their SHA-256), drops a last line cut short, reads the rows back
(they count in the summary) and appends the rest: the file ends as an uninterrupted run's.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import Problem, SweepError
from ..sweep import Row, SweepPlan

__all__ = ["FORMATS", "HEADER_KEY", "ROW_GROUP", "ResultsFile", "results_format"]

#: The header's key, in every format.
HEADER_KEY = "mediation_sweep"
#: The version of the results format.
RESULTS_VERSION = "1.0"
#: The results formats, by file-name suffix.
FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
#: Rows per Parquet row group.
ROW_GROUP = 10_000


def _refused(message: str, code: str = "results_file") -> SweepError:
    """Return the error of a results file that cannot be used (another sweep's, or damaged)."""
    return SweepError([Problem("output", message, code)])


def results_format(path: Path) -> str | None:
    """Return the format a results file's name asks for, or ``None`` for an unknown suffix."""
    return FORMATS.get(path.suffix.lower())


def _header(plan: SweepPlan) -> dict[str, Any]:
    from ..allocation.pipeline import engine_version

    return {
        "format": RESULTS_VERSION,
        "case_id": plan.case.id,
        "case_sha256": plan.case_sha256,
        "sweep_sha256": plan.sweep_sha256,
        "scenarios": plan.scenarios,
        "engine_version": engine_version(),
        "columns": list(plan.columns),
    }


class ResultsFile:
    """The results of one sweep in one file: started afresh or resumed, rows appended in order."""

    def __init__(self, path: Path, plan: SweepPlan) -> None:
        kind = results_format(path)
        if kind is None:
            raise _refused(
                f"{path}: unknown results format '{path.suffix}'; use .jsonl, .csv or .parquet"
            )
        self.path = path
        self.kind = kind
        self.plan = plan
        self.columns = plan.columns
        self.types = plan.column_types
        # the file rows stream to: the results themselves, or a Parquet file's journal
        self.stream = path.with_name(path.name + ".journal.jsonl") if kind == "parquet" else path
        self._file: IO[str] | None = None
        self._writer: Any = None
        self.rows = 0

    def exists(self) -> bool:
        """Whether there are results (or a journal) to resume or to overwrite."""
        return self.path.exists() or self.stream.exists()

    # --- writing ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the file afresh, with its header."""
        if self.stream != self.path and self.path.exists():
            self.path.unlink()
        header = _header(self.plan)
        self._open("w")
        assert self._file is not None
        if self.kind == "csv":
            self._file.write(f"# {HEADER_KEY} {json.dumps(header, ensure_ascii=False)}\n")
            self._writer.writerow(self.columns)
        else:
            self._file.write(json.dumps({HEADER_KEY: header}, ensure_ascii=False) + "\n")
        self._file.flush()

    def _open(self, mode: str) -> None:
        self._file = self.stream.open(mode, encoding="utf-8", newline="")
        if self.kind == "csv":
            self._writer = csv.writer(self._file, lineterminator="\n")

    def write(self, row: Row) -> None:
        """Append one row and flush it."""
        if self._file is None:
            self._open("a")
        assert self._file is not None
        if self.kind == "csv":
            self._writer.writerow(["" if row[c] is None else row[c] for c in self.columns])
        else:
            line = json.dumps(
                {c: row[c] for c in self.columns},
                ensure_ascii=False,
                allow_nan=False,
                separators=(",", ":"),
            )
            self._file.write(line + "\n")
        self._file.flush()
        self.rows += 1

    def close(self) -> None:
        """Close the stream (the rows written so far stay)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def finish(self, *, complete: bool) -> None:
        """Close the stream; for Parquet write the file from the journal (removed when complete)."""
        self.close()
        if self.kind != "parquet" or not self.stream.exists():
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        kinds = {int: pa.int64(), float: pa.float64(), str: pa.string()}
        header = self._read_header()
        schema = pa.schema(
            [pa.field(c, kinds[self.types[c]]) for c in self.columns],
            metadata={HEADER_KEY: json.dumps(header, ensure_ascii=False)},
        )
        partial = self.path.with_name(self.path.name + ".part")
        with pq.ParquetWriter(partial, schema) as writer:
            chunk: list[Row] = []
            for row in self._read_jsonl_rows(self.stream):
                chunk.append(row)
                if len(chunk) == ROW_GROUP:
                    writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                    chunk = []
            if chunk:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
        os.replace(partial, self.path)
        if complete:
            self.stream.unlink()

    # --- resuming --------------------------------------------------------------------------

    def resume(self) -> Iterator[Row]:
        """Check that the file is this sweep's and yield its rows (then rows append to it).

        A last line cut short (the process killed while writing it) is dropped from the file
        first. A Parquet file without its journal gets the journal back from its rows.

        Raises
        ------
        SweepError
            When the file was made by another sweep or case, or is damaged (the problem's
            path is ``output``).
        """
        if self.kind == "parquet" and not self.stream.exists():
            self._journal_from_parquet()
        self._check(self._read_header())
        _drop_cut_line(self.stream)
        rows = self._read_csv_rows() if self.kind == "csv" else self._read_jsonl_rows(self.stream)
        for row in rows:
            self.rows += 1
            yield row

    def _check(self, header: dict[str, Any]) -> None:
        mine = _header(self.plan)
        for key, what in (("case_sha256", "case"), ("sweep_sha256", "sweep file")):
            if header.get(key) != mine[key]:
                raise _refused(
                    f"{self.path} was made from another {what} (its {key} is "
                    f"{header.get(key)!r}, this one's {mine[key]!r}); write to another file, "
                    "or pass --force to start it afresh"
                )
        if header.get("columns") != mine["columns"]:
            raise _refused(f"{self.path} has other columns than this sweep's rows")

    def _read_header(self) -> dict[str, Any]:
        """Return the header on the first line of the stream (the results, or a journal)."""
        with self.stream.open(encoding="utf-8", newline="") as file:
            first = file.readline()
        data: Any = None
        if self.kind == "csv":
            prefix = f"# {HEADER_KEY} "
            text = first[len(prefix) :] if first.startswith(prefix) else ""
        else:
            text = first
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if self.kind != "csv":
            data = data.get(HEADER_KEY) if isinstance(data, dict) else None
        if not isinstance(data, dict):
            raise _refused(
                f"{self.stream} has no mediation sweep header on its first line", "no_header"
            )
        return data

    def _read_jsonl_rows(self, path: Path) -> Iterator[Row]:
        with path.open(encoding="utf-8", newline="") as file:
            file.readline()  # the header
            for number, line in enumerate(file, start=2):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    raise _refused(f"{path}: line {number} is not a row") from None
                if not isinstance(row, dict) or list(row) != list(self.columns):
                    raise _refused(f"{path}: line {number} is not a row of this sweep")
                yield row

    def _read_csv_rows(self) -> Iterator[Row]:
        with self.path.open(encoding="utf-8", newline="") as file:
            file.readline()  # the header
            reader = csv.reader(file)
            names = next(reader, None)
            if names != list(self.columns):
                raise _refused(f"{self.path}: the column names are not this sweep's")
            for cells in reader:
                if len(cells) != len(self.columns):
                    raise _refused(f"{self.path}: line {reader.line_num + 1} is not a row")
                yield {c: self._cell(c, v) for c, v in zip(self.columns, cells, strict=True)}

    def _cell(self, column: str, text: str) -> Any:
        if text == "":
            return None
        kind = self.types[column]
        try:
            return kind(text)
        except ValueError:
            raise _refused(f"{self.path}: {text!r} is not a value of {column}") from None

    def _journal_from_parquet(self) -> None:
        """Write the journal of a Parquet file from its rows, so that rows append to it."""
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(self.path)
        meta = parquet.schema_arrow.metadata or {}
        raw = meta.get(HEADER_KEY.encode())
        if raw is None:
            raise _refused(f"{self.path} has no mediation sweep header in its metadata")
        header = json.loads(raw)
        self._check(header)
        partial = self.stream.with_name(self.stream.name + ".part")
        with partial.open("w", encoding="utf-8", newline="") as file:
            file.write(json.dumps({HEADER_KEY: header}, ensure_ascii=False) + "\n")
            for batch in parquet.iter_batches(batch_size=ROW_GROUP):
                for row in batch.to_pylist():
                    file.write(
                        json.dumps(row, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
                        + "\n"
                    )
        os.replace(partial, self.stream)


def _drop_cut_line(path: Path) -> None:
    """Truncate a text file after its last complete line (one that ends with a newline)."""
    with path.open("rb+") as file:
        size = file.seek(0, io.SEEK_END)
        if not size:
            return
        file.seek(size - 1)
        if file.read(1) == b"\n":
            return
        block = 1 << 16
        end = size
        while end > 0:
            start = max(0, end - block)
            file.seek(start)
            data = file.read(end - start)
            newline = data.rfind(b"\n")
            if newline >= 0:
                file.truncate(start + newline + 1)
                return
            end = start
        file.truncate(0)
