"""Wall time, peak memory and disk of the whole pipeline (the real CLI) on a generated inbox, beside two peers.

Run (one heavy process at a time: ours, then the floor, then Splink):
    .venv/bin/python bench/bench_pipeline.py --rows 10k [--seed 7] [--skip-floor] [--skip-splink] [--keep]

The inbox (bench/inbox_data.py: ledgers, legacy CRM CSVs, web forms; ~61% customer records, 17%
orders, 22% follow-ups) is generated once per size and seed under bench/.data/ and reused. Ours is
`python -m crm_etl.flows.cli run` in a subprocess; its peak RSS is sampled every 0.2 s from /proc, for the
CLI process (VmHWM) and for the sum over its process tree (VmRSS; Prefect starts a temporary API
server). Per-stage times come from the published file's `run_stages` table when this version of
the CLI records it. Sizes on disk: the DuckDB file, its extraction cache `<db>.cache/`, and what
the run added to Prefect's result storage. The peers run in their own subprocesses, measured the
same way:
  - floor: every sheet, CSV and JSON Lines file read with no cleaning (xlsx via polars.read_excel
    with the calamine engine; CSV decoded as GB18030 and read by polars; JSON Lines per line) and
    written as one DuckDB table each into a fresh file. The least any pipeline can take.
  - splink: the plain Splink 5 pipeline of bench/splink_pipeline.py (customer records only).
Targets (issue 13): ours ≤ 3× the floor's wall time; DuckDB file + cache ≤ 2× the inbox.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

AS_OF = "2024-06-30"
POLL_SECONDS = 0.2
MIB = 2**20


class Measured(NamedTuple):
    """One subprocess: exit code, wall time and peak memory."""

    exit_code: int
    seconds: float
    main_peak_mb: float  # VmHWM of the process itself
    tree_peak_mb: float  # largest sum of VmRSS over the process and its descendants
    stdout: Path
    stderr: Path
    # Every descendant seen: pid -> (kind, its own peak VmHWM in MiB); kinds: dask-worker, prefect-server, other.
    descendants: dict[int, tuple[str, float]]

    def peaks(self, kind: str) -> list[float]:
        return sorted((peak for k, peak in self.descendants.values() if k == kind), reverse=True)


def _kind(pid: int) -> str:
    """What a descendant of the CLI is, from its command line."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return "other"
    if b"spawn_main" in command:  # a Dask worker process, spawned by its nanny in the CLI process
        return "dask-worker"
    if b"uvicorn" in command or (b"prefect" in command and b"server" in command):
        return "prefect-server"
    return "other"


# -- measuring a process tree ------------------------------------------------------------------


def _status_kb(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _process_tree(root: int) -> list[int]:
    """`root` and every process descended from it, from the parent IDs in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and brackets, so split after its last ')'.
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [root], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            tree.append(child)
            todo.append(child)
    return tree


def run_measured(
    command: list[str],
    stdout: Path,
    stderr: Path,
    env: dict[str, str] | None = None,
    time_limit: float | None = None,
) -> Measured:
    """Run `command` from the repository root, output to files; sample its tree's memory until it ends.

    Past `time_limit` seconds the process is killed (exit code -9 in the result).
    """
    main_peak = tree_peak = 0
    descendants: dict[int, tuple[str, float]] = {}
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=err)
        while True:
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time_limit is not None and time.perf_counter() - start > time_limit:
                for child in reversed(_process_tree(process.pid)):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, 9)
                _, status, _ = os.wait4(process.pid, 0)
                break
            main_peak = max(main_peak, _status_kb(process.pid, "VmHWM"))
            tree = _process_tree(process.pid)
            tree_peak = max(tree_peak, sum(_status_kb(p, "VmRSS") for p in tree))
            for child in tree[1:]:
                kind, peak = descendants.get(child) or (_kind(child), 0.0)
                descendants[child] = (kind, max(peak, _status_kb(child, "VmHWM") / 1024))
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        process.returncode,
        seconds,
        main_peak / 1024,
        max(tree_peak, main_peak) / 1024,
        stdout,
        stderr,
        descendants,
    )


def tree_bytes(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (0 when absent)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def prefect_storage() -> Path:
    """Prefect's local result storage (PREFECT_LOCAL_STORAGE_PATH, default ~/.prefect/storage)."""
    configured = os.environ.get("PREFECT_LOCAL_STORAGE_PATH")
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect"))
    return Path(configured) if configured else home / "storage"


# -- the floor: read every file and write it into DuckDB, nothing else -------------------------


def _workbook_sheets(path: Path) -> dict[str, Any]:
    """Every sheet as a frame of strings, header rows included (no header is guessed)."""
    import polars as pl

    try:
        return pl.read_excel(path, sheet_id=0, engine="calamine", has_header=False, infer_schema_length=0)
    except ModuleNotFoundError:
        pass  # polars' calamine engine needs fastexcel; read the cells with python-calamine instead
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    sheets = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        width = max((len(r) for r in rows), default=0)
        columns = zip(*(list(r) + [""] * (width - len(r)) for r in rows), strict=True) if rows else []
        sheets[name] = pl.DataFrame(
            {
                f"column_{i + 1}": pl.Series([None if v == "" else str(v) for v in column], dtype=pl.String)
                for i, column in enumerate(columns)
            }
        )
    return sheets


def excel_reader() -> str:
    """Which reader _workbook_sheets uses on this machine."""
    try:
        import fastexcel  # noqa: F401
    except ModuleNotFoundError:
        return "python-calamine to_python (fastexcel, which polars.read_excel(engine='calamine') needs, is not installed)"
    return "polars.read_excel(engine='calamine')"


def _json_lines(path: Path) -> Any:
    import polars as pl

    objects = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                objects.append({k: None if v is None else str(v) for k, v in value.items()})
    return pl.from_dicts(objects, infer_schema_length=None) if objects else pl.DataFrame()


def read_inbox_tables(inbox: Path) -> Iterator[tuple[str, str, Any, bool]]:
    """(file, sheet, frame of strings, columns are the JSON keys) for every sheet and file of the inbox.

    Sheets and CSV files come as grids (header rows are rows); JSON Lines with the keys as columns.
    Hidden files and folders are skipped, as the pipeline skips them.
    """
    import polars as pl

    for path in sorted(inbox.rglob("*")):
        relative = path.relative_to(inbox)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        file, suffix = relative.as_posix(), path.suffix.lower()
        if suffix in {".xlsx", ".xlsm", ".xls"}:
            for sheet, frame in _workbook_sheets(path).items():
                yield file, sheet, frame, False
        elif suffix == ".csv":
            data = path.read_bytes().decode("gb18030").encode("utf-8")
            frame = pl.read_csv(data, has_header=False, infer_schema_length=0, truncate_ragged_lines=True)
            yield file, "", frame, False
        elif suffix in {".jsonl", ".ndjson"}:
            yield file, "", _json_lines(path), True


def run_floor(inbox: Path, out: Path) -> dict[str, Any]:
    """Write every sheet and file of the inbox as a DuckDB table into a fresh file `out`."""
    import duckdb

    out.unlink(missing_ok=True)
    tables = rows = 0
    with duckdb.connect(str(out)) as con:
        for file, sheet, frame, _ in read_inbox_tables(inbox):
            name = re.sub(r"\W+", "_", f"{Path(file).stem}_{sheet}").strip("_")
            con.register("frame", frame.to_arrow())
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
            tables, rows = tables + 1, rows + frame.height
    return {"tables": tables, "rows": rows, "excel_reader": excel_reader()}


# -- what the CLI published ---------------------------------------------------------------------


def published_facts(db: Path) -> dict[str, Any]:
    """Counts, quarantine reasons and per-stage times of the run in the published DuckDB file."""
    import duckdb

    facts: dict[str, Any] = {"stages": None}
    if not db.exists():
        return facts
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {
            row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        run = con.execute(
            "SELECT run_id, rows_read, rows_loaded, rows_quarantined, customers, records_merged, files_failed "
            "FROM runs ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        if run is None:
            return facts
        keys = (
            "run_id",
            "rows_read",
            "rows_loaded",
            "rows_quarantined",
            "customers",
            "records_merged",
            "failed",
        )
        facts.update(dict(zip(keys, run, strict=True)))
        facts["customers"] = con.execute("SELECT count(*) FROM customers").fetchone()[0]  # type: ignore[index]
        for table in ("orders", "interactions"):
            facts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        facts["quarantine"] = con.execute(
            "SELECT source_file, source_sheet, reason, count(*) AS n FROM quarantine WHERE run_id = ? "
            "GROUP BY ALL ORDER BY n DESC, source_file, source_sheet",
            [facts["run_id"]],
        ).fetchall()
        facts["sheets"] = con.execute(
            "SELECT source_file, source_sheet, source_spec, rows_read, status FROM run_files WHERE run_id = ? "
            "ORDER BY source_file, source_sheet",
            [facts["run_id"]],
        ).fetchall()
        # Where the file's bytes go: persistent blocks per table (a block holds segments of one table).
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
        blocks = []
        for (table,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall():
            used = con.execute(
                f"SELECT count(DISTINCT block_id) FROM pragma_storage_info('{table}') WHERE persistent"
            ).fetchall()[0][0]
            blocks.append((table, used * block_size))
        facts["table_bytes"] = sorted(blocks, key=lambda item: -item[1])
        if "run_stages" in tables:
            columns = {row[0] for row in con.execute("DESCRIBE run_stages").fetchall()}
            order = "position" if "position" in columns else "rowid"
            facts["stages"] = con.execute(
                "SELECT stage, seconds, items, unit, peak_rss_mb FROM run_stages "
                f"WHERE run_id = (SELECT max(run_id) FROM runs) ORDER BY {order}"
            ).fetchall()
    return facts


# -- report -----------------------------------------------------------------------------------


def _last_json(path: Path) -> dict[str, Any]:
    for line in reversed(path.read_text(encoding="utf-8", errors="replace").splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b else "-"


def _peer(
    name: str, inbox: Path, work: Path, env: dict[str, str], time_limit: float | None = None
) -> tuple[Measured, dict[str, Any]]:
    out = work / f"{name}.duckdb"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--peer",
        name,
        "--inbox",
        str(inbox),
        "--out",
        str(out),
    ]
    measured = run_measured(command, work / f"{name}.stdout", work / f"{name}.stderr", env, time_limit)
    if measured.exit_code == -9:
        print(f"{name} did not finish within {time_limit:.0f} s: stopped", flush=True)
        return measured, {}
    if measured.exit_code != 0:
        print(f"{name} failed (exit {measured.exit_code}):\n{_tail(measured.stderr)}", flush=True)
        return measured, {}
    result = _last_json(measured.stdout)
    result["db_bytes"] = tree_bytes(out)
    return measured, result


class ClusterRun(NamedTuple):
    workers: int
    measured: Measured
    work_folder_bytes: float | None
    pair_chunks: int | None
    candidate_pairs: int | None
    same_tables: bool
    stages: list[Any] | None
    tasks: str | None  # the CLI's "tasks:" line: runs, mean and slowest seconds per task


def _chunk_overlay(work: Path, size: int) -> Path:
    """A --schemas folder whose runs.yaml is the bundled one with `cluster.pair_chunk_size: size`."""
    import yaml

    folder = work / "schemas-overlay"
    folder.mkdir()
    runs = yaml.safe_load((REPO_ROOT / "crm_etl" / "schemas" / "runs.yaml").read_text(encoding="utf-8"))
    runs["cluster"]["pair_chunk_size"] = size
    (folder / "runs.yaml").write_text(yaml.safe_dump(runs, allow_unicode=True), encoding="utf-8")
    return folder


def _cluster_run(
    workers: int, command: list[str], work: Path, env: dict[str, str], single_db: Path
) -> ClusterRun:
    """`crm-etl run --workers N` on the same inbox into its own file; its tables against the single-process run's."""
    from same_tables import table_digests

    folder = work / f"workers-{workers}"
    folder.mkdir()
    db = folder / "crm.duckdb"
    swapped = {"--db": str(db), "--reports": str(folder / "reports")}
    cluster_command = [
        swapped.get(previous, arg) for previous, arg in zip(["", *command[:-1]], command, strict=True)
    ]
    cluster_command += ["--workers", str(workers)]
    print(f"ours on {workers} Dask worker(s): {' '.join(cluster_command[1:])}", flush=True)
    measured = run_measured(cluster_command, folder / "cli.stdout", folder / "cli.stderr", env)
    print(f"  exit {measured.exit_code} in {measured.seconds:.1f} s", flush=True)
    text = measured.stdout.read_text(errors="replace") + measured.stderr.read_text(errors="replace")
    exchanged = re.search(
        r"([\d,.]+) MB of Parquet exchanged, ([\d,]+) candidate pairs in (\d+) chunk", " ".join(text.split())
    )
    same = measured.exit_code == 0 and table_digests(db) == table_digests(single_db)
    return ClusterRun(
        workers,
        measured,
        float(exchanged.group(1).replace(",", "")) if exchanged else None,
        int(exchanged.group(3)) if exchanged else None,
        int(exchanged.group(2).replace(",", "")) if exchanged else None,
        same,
        published_facts(db).get("stages") if measured.exit_code == 0 else None,
        next(
            (line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("tasks:")), None
        ),
    )


def _print_cluster_table(rows: int, single: Measured, runs: list[ClusterRun]) -> None:
    print(f"\n## On a local Dask cluster ({rows:,} rows; every process on this machine's 2 cores)\n")
    print("| run | wall s | main process peak MiB | peak per Dask worker MiB | Prefect server MiB "
          "| tree peak MiB | work folder MB | candidate pairs / chunks | tables |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| one process | {single.seconds:.1f} | {single.main_peak_mb:,.0f} | - | "
          f"{', '.join(f'{p:,.0f}' for p in single.peaks('prefect-server')) or '-'} | "
          f"{single.tree_peak_mb:,.0f} | - | - | (reference) |")  # fmt: skip
    for run in runs:
        m = run.measured
        workers = ", ".join(f"{p:,.0f}" for p in m.peaks("dask-worker")) or "-"
        server = ", ".join(f"{p:,.0f}" for p in m.peaks("prefect-server")) or "-"
        exchanged = f"{run.work_folder_bytes:,.1f}" if run.work_folder_bytes is not None else "?"
        print(f"| --workers {run.workers} | {m.seconds:.1f} | {m.main_peak_mb:,.0f} | {workers} | {server} | "
              f"{m.tree_peak_mb:,.0f} | {exchanged} | {run.candidate_pairs or 0:,} / {run.pair_chunks or '?'} | "
              f"{'identical' if run.same_tables else 'DIFFERENT (or failed: exit ' + str(m.exit_code) + ')'} |")  # fmt: skip
    for run in runs:
        if run.tasks:
            print(f"\n--workers {run.workers}, tasks (own clock): {run.tasks}")
        if run.stages:
            print(f"\n--workers {run.workers}, per stage (main process): " + ", ".join(
                f"{stage} {seconds:.1f} s" for stage, seconds, *_ in run.stages))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10k", help="input data rows: 10k, 100k, 1M or an integer")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument(
        "--peer-time-limit",
        type=float,
        default=1800,
        help="stop a peer after this many seconds (default 1800)",
    )
    parser.add_argument(
        "--workers",
        default="",
        help="also run on a local Dask cluster of each of these sizes, e.g. 1,2 (README: Running on a cluster)",
    )
    parser.add_argument(
        "--pair-chunk-size",
        type=int,
        help="for the --workers runs: candidate pairs per task (schemas/runs.yaml cluster.pair_chunk_size)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, reports, logs)")
    parser.add_argument("--peer", choices=("floor", "splink"), help=argparse.SUPPRESS)
    parser.add_argument("--inbox", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.peer:
        # Internal mode: one peer in this (fresh) process, its figures as the last line of stdout.
        if args.peer == "floor":
            result = run_floor(args.inbox, args.out)
        else:
            from splink_pipeline import run as run_splink

            result = run_splink(args.inbox, args.out)
        print(json.dumps(result, ensure_ascii=False))
        return

    from inbox_data import cached_inbox, parse_rows

    rows = parse_rows(args.rows)
    inbox, counts = cached_inbox(rows, args.seed)
    how = f"generated in {counts['generated_seconds']:.1f} s" if counts.get("generated_now") else "reused"
    inbox_bytes = int(counts["bytes"])
    print(f"inbox {inbox} ({how}): {counts['data_rows']:,} data rows in {counts['files']} files, "
          f"{inbox_bytes / MIB:.1f} MiB; {counts['companies']:,} companies generated", flush=True)  # fmt: skip
    kinds = (
        "ledger_customers",
        "crm_accounts",
        "web_forms",
        "crm_orders",
        "ledger_follow_ups",
        "crm_interactions",
    )
    print("  " + ", ".join(f"{k} {counts[k]:,}" for k in (*kinds, "garbage_rows")), flush=True)

    work = Path(tempfile.mkdtemp(prefix=f"bench-pipeline-{rows}-"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["COLUMNS"] = "200"  # rich's tables in the captured output keep whole file names
    db = work / "crm.duckdb"
    storage = prefect_storage()
    storage_before = tree_bytes(storage)
    command = [sys.executable, "-m", "crm_etl.flows.cli", "run", "--inbox", str(inbox), "--db", str(db),
               "--reports", str(work / "reports"), "--as-of", AS_OF]  # fmt: skip
    print(f"ours: {' '.join(command[1:])}", flush=True)
    ours = run_measured(command, work / "cli.stdout", work / "cli.stderr", env)
    storage_growth = max(0, tree_bytes(storage) - storage_before)
    db_bytes = tree_bytes(db) + tree_bytes(db.with_name(db.name + ".wal"))
    cache_bytes = tree_bytes(db.with_name(db.name + ".cache"))
    snapshot_bytes = tree_bytes(db.with_name(db.name + ".snapshots"))
    reports_bytes = tree_bytes(work / "reports")
    facts = published_facts(db)
    print(f"ours: exit {ours.exit_code} in {ours.seconds:.1f} s", flush=True)
    if ours.exit_code != 0:
        print(f"last lines of its stderr:\n{_tail(ours.stderr)}", flush=True)

    cluster_command = list(command)
    if args.pair_chunk_size:
        cluster_command += ["--schemas", str(_chunk_overlay(work, args.pair_chunk_size))]
    clustered = [
        _cluster_run(int(n), cluster_command, work, env, db) for n in filter(None, args.workers.split(","))
    ]

    floor: tuple[Measured, dict[str, Any]] | None = None
    if not args.skip_floor:
        floor = _peer("floor", inbox, work, env)
    splink: tuple[Measured, dict[str, Any]] | None = None
    if not args.skip_splink:
        splink = _peer("splink", inbox, work, env, args.peer_time_limit)

    print()
    print(f"## crm-etl run on {rows:,} rows (seed {args.seed}): inbox {inbox_bytes / MIB:.1f} MiB\n")
    print("| run | wall s | peak RSS MiB (main / tree) | DB MiB | cache MiB | (DB+cache) / inbox | result |")
    print("|---|---:|---:|---:|---:|---:|---|")
    result = (
        f"{facts['customers']:,} customers, exit {ours.exit_code}"
        if "customers" in facts
        else f"exit {ours.exit_code}"
    )
    print(f"| ours (`crm-etl run`) | {ours.seconds:.1f} | {ours.main_peak_mb:,.0f} / {ours.tree_peak_mb:,.0f} | "
          f"{db_bytes / MIB:.1f} | {cache_bytes / MIB:.1f} | {(db_bytes + cache_bytes) / inbox_bytes:.1f}× "
          f"(target ≤ 2×) | {result} |")  # fmt: skip
    if floor:
        m, r = floor
        print(f"| floor (read + write DuckDB) | {m.seconds:.1f} | {m.main_peak_mb:,.0f} / {m.tree_peak_mb:,.0f} | "
              f"{r.get('db_bytes', 0) / MIB:.1f} | - | - | {r.get('tables', '?')} tables, "
              f"{r.get('rows', 0):,} rows, exit {m.exit_code} |")  # fmt: skip
    if splink:
        m, r = splink
        print(f"| Splink 5 (DuckDB) | {m.seconds:.1f} | {m.main_peak_mb:,.0f} / {m.tree_peak_mb:,.0f} | "
              f"{r.get('db_bytes', 0) / MIB:.1f} | - | - | {r.get('clusters', 0):,} clusters of "
              f"{r.get('records', 0):,} records, exit {m.exit_code} |")  # fmt: skip
    print()
    if floor:
        m, _ = floor
        print(f"ours / floor: {_ratio(ours.seconds, m.seconds)} wall time (target ≤ 3×), "
              f"{_ratio(ours.tree_peak_mb, m.tree_peak_mb)} peak RSS (tree)")  # fmt: skip
    if splink:
        m, r = splink
        print(f"ours / Splink: {_ratio(ours.seconds, m.seconds)} wall time, "
              f"{_ratio(ours.tree_peak_mb, m.tree_peak_mb)} peak RSS (tree); Splink does customers only, "
              "no orders, follow-ups, validation or report")  # fmt: skip
        if "customers" in facts:
            print(f"customers: ours {facts['customers']:,}, Splink {r.get('clusters', 0):,} clusters "
                  f"({counts['companies']:,} companies generated)")  # fmt: skip
    print(f"Prefect result storage ({storage}) grew by {storage_growth / MIB:.1f} MiB; "
          f"DB + cache + Prefect storage = {(db_bytes + cache_bytes + storage_growth) / inbox_bytes:.1f}× inbox; "
          f"snapshots {snapshot_bytes / MIB:.1f} MiB, reports {reports_bytes / MIB:.1f} MiB")  # fmt: skip
    if floor:
        print(f"floor's xlsx reader: {floor[1].get('excel_reader', '?')}")
    if "rows_read" in facts:
        print(f"rows read {facts['rows_read']:,}, loaded {facts['rows_loaded']:,}, quarantined "
              f"{facts['rows_quarantined']:,}; orders {facts['orders']:,}, interactions {facts['interactions']:,}; "
              f"records merged {facts['records_merged']:,}; failed files {facts['failed']}")  # fmt: skip
        for file, sheet, spec, read, status in facts["sheets"]:
            print(
                f"  read {read or 0:>9,}  {status:<7} {spec or '-':<24} {file}{' [' + sheet + ']' if sheet else ''}"
            )
        for file, sheet, reason, n in facts["quarantine"]:
            print(f"  quarantined {n:>7,}  {reason:<22} {file}{' [' + sheet + ']' if sheet else ''}")
        largest = ", ".join(f"{t} {b / MIB:.1f}" for t, b in facts["table_bytes"][:6] if b)
        print(f"DuckDB file by table (MiB of blocks): {largest}")
    print()
    if facts["stages"] is None:
        print("per-stage times: not recorded by this version")
    else:
        print("| stage | seconds | items | unit | items/s | peak RSS MiB |")
        print("|---|---:|---:|---|---:|---:|")
        for stage, seconds, items, unit, peak in facts["stages"]:
            rate = f"{items / seconds:,.0f}" if items and seconds else "-"
            items_text = f"{items:,}" if items is not None else "-"
            peak_text = f"{peak:,.0f}" if peak is not None else "-"
            print(f"| {stage} | {seconds:.2f} | {items_text} | {unit or ''} | {rate} | {peak_text} |")
    if clustered:
        _print_cluster_table(rows, ours, clustered)
    if args.keep:
        print(f"\nwork folder kept: {work} (cli.stdout / cli.stderr, crm.duckdb, reports/)")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
