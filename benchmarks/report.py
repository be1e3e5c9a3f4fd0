"""The results table (stdout, and the README's "Last results"), the summaries and the JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    GROUP_BARE,
    GROUP_BOTO3,
    GROUP_OURS,
    GROUP_SQS_WORKERS,
    GROUP_TYPED,
)
from benchmarks.runner import Settings, WorkloadReport
from benchmarks.server import SQSServer

PACKAGES = ("boto3", "botocore", "sqs-workers", "sqs_contracts", "pydantic", "orjson", "moto")

OP_ABBREV = {
    "SendMessage": "snd",
    "SendMessageBatch": "sndB",
    "ReceiveMessage": "rcv",
    "DeleteMessage": "del",
    "DeleteMessageBatch": "delB",
    "ChangeMessageVisibility": "vis",
    "ChangeMessageVisibilityBatch": "visB",
    "GetQueueUrl": "url",
    "GetQueueAttributes": "attr",
    "CreateQueue": "mkq",
}

HEADERS = (
    "lat ms",
    "workload",
    "impl",
    "jobs",
    "jobs/s",
    "min-max",
    "CPU us/job",
    "req/job",
    "by operation",
    "stop s",
    "vs bare thr/cpu",
    "vs sqs-workers thr/cpu",
)


def _fmt(x: float | None, digits: int = 0) -> str:
    if x is None or math.isnan(x):
        return "-"
    return f"{x:,.{digits}f}"


def _ops(by_op: dict[str, float]) -> str:
    return " ".join(
        f"{OP_ABBREV.get(op, op)} {v:.3f}".replace(" 0.", " .") for op, v in by_op.items()
    )


def _ratio(ours: WorkloadReport, base: WorkloadReport | None) -> str:
    if base is None or not ours.runs or not base.runs:
        return ""
    o, b = ours.summary(), base.summary()
    thr = o["jobs_per_s"]["median"] / b["jobs_per_s"]["median"]
    cpu = o["cpu_us_per_job"]["median"] / b["cpu_us_per_job"]["median"]
    return f"{thr:.2f}/{cpu:.2f}"


def _lat(r: WorkloadReport) -> str:
    return "mem" if r.latency_ms is None else _fmt(r.latency_ms)


def table_rows(reports: Sequence[WorkloadReport]) -> list[tuple[str, ...]]:
    index = {(r.spec.group, r.spec.name, r.latency_ms): r for r in reports}
    rows: list[tuple[str, ...]] = []
    for r in reports:
        lat = _lat(r)
        if r.status != "ok":
            note = "not available" if r.status == "unavailable" else "ERROR"
            rows.append(
                (lat, r.spec.name, r.spec.group, "", note, "", "", "", r.reason[:60], "", "", "")
            )
            continue
        s = r.summary()
        thr = s["jobs_per_s"]
        vs_bare = vs_sqsw = ""
        if r.spec.group == GROUP_OURS:
            # The floor: the bare boto3 loop, or the bare MemorySession loop in memory.
            floor = GROUP_BOTO3 if r.latency_ms is not None else GROUP_BARE
            vs_bare = _ratio(r, index.get((floor, r.spec.name, r.latency_ms)))
            vs_sqsw = _ratio(r, index.get((GROUP_SQS_WORKERS, r.spec.name, r.latency_ms)))
        in_memory = r.latency_ms is None
        rows.append(
            (
                lat,
                r.spec.name,
                r.spec.group,
                str(r.jobs),
                _fmt(thr["median"]),
                f"{_fmt(thr['min'])}-{_fmt(thr['max'])}",
                _fmt(s["cpu_us_per_job"]["median"]),
                "-" if in_memory else f"{s['requests_per_job']:.3f}",
                "" if in_memory else _ops(s["requests_per_job_by_op"]),
                _fmt(s["stop_s"]["median"], 2),
                vs_bare,
                vs_sqsw,
            )
        )
    return rows


def format_table(reports: Sequence[WorkloadReport], markdown: bool = False) -> str:
    """The aligned table (or a Markdown one); ratio columns only if sqs_contracts rows exist."""
    rows = table_rows(reports)
    headers: tuple[str, ...] = HEADERS
    if not any(r.spec.group == GROUP_OURS for r in reports):
        headers, rows = headers[:-2], [row[:-2] for row in rows]
    right = {0, 3, 4, 5, 6, 7, 9}
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return ("| " + " | ".join(padded) + " |") if markdown else "  ".join(padded).rstrip()

    out = [line(headers)]
    if markdown:
        rule = [
            ("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        ]
        out.append("|" + "|".join(rule) + "|")
    else:
        out.append("  ".join("-" * w for w in widths))
    prev_lat = None
    for row in rows:
        if not markdown and prev_lat is not None and row[0] != prev_lat:
            out.append("")
        prev_lat = row[0]
        out.append(line(row))
    return "\n".join(out)


# ---- summaries under the table -------------------------------------------------------------

OVERHEAD_WORKLOADS = ("enqueue.batch", "process.c1")
MEMORY_ROWS = (
    ("memory.cycle", GROUP_BARE),
    ("memory.cycle", GROUP_TYPED),
    ("memory.cycle", GROUP_SQS_WORKERS),
    ("memory.cycle", GROUP_OURS),
    ("memory.worker.c1", GROUP_SQS_WORKERS),
    ("memory.worker.c1", GROUP_OURS),
)


def _extra(r: WorkloadReport, key: str) -> float:
    """The median over the runs of a number a workload recorded in ``extra``."""
    vals = [float(run.extra[key]) for run in r.runs if run.extra.get(key) is not None]
    return statistics.median(vals) if vals else float("nan")


def overhead_summary(reports: Sequence[WorkloadReport]) -> dict[str, dict[str, float]]:
    """Client CPU per job above the bare boto3 loop's, at latency 0, ours and sqs-workers.

    ``{workload: {boto3_cpu_us, sqs_contracts_cpu_us, sqs_contracts_overhead_us, sqs-workers_...,
    ratio}}`` where ``ratio`` is our overhead / sqs-workers' overhead (below 1: ours costs
    less on top of boto3). Workloads without the three rows at 0 ms are left out.
    """
    index = {
        (r.spec.group, r.spec.name): r for r in reports if r.latency_ms == 0 and r.status == "ok"
    }
    out: dict[str, dict[str, float]] = {}
    for name in OVERHEAD_WORKLOADS:
        rows = {g: index.get((g, name)) for g in (GROUP_BOTO3, GROUP_OURS, GROUP_SQS_WORKERS)}
        if any(r is None or not r.runs for r in rows.values()):
            continue
        cpu = {g: r.summary()["cpu_us_per_job"]["median"] for g, r in rows.items() if r}
        ours = cpu[GROUP_OURS] - cpu[GROUP_BOTO3]
        theirs = cpu[GROUP_SQS_WORKERS] - cpu[GROUP_BOTO3]
        out[name] = {
            "boto3_cpu_us": cpu[GROUP_BOTO3],
            f"{GROUP_OURS}_cpu_us": cpu[GROUP_OURS],
            f"{GROUP_SQS_WORKERS}_cpu_us": cpu[GROUP_SQS_WORKERS],
            f"{GROUP_OURS}_overhead_us": ours,
            f"{GROUP_SQS_WORKERS}_overhead_us": theirs,
            "ratio": ours / theirs if theirs > 0 else float("nan"),
        }
    return out


def memory_summary(reports: Sequence[WorkloadReport]) -> dict[str, Any]:
    """The in-memory rows split by phase (CPU us/job, medians), and the RSS run."""
    index = {(r.spec.name, r.spec.group): r for r in reports if r.latency_ms is None}
    out: dict[str, Any] = {}
    for name, group in MEMORY_ROWS:
        r = index.get((name, group))
        if r is None or not r.runs:
            continue
        out[f"{group}/{name}"] = {
            "jobs": r.jobs,
            "cycle_cpu_us_per_job": r.summary()["cpu_us_per_job"]["median"],
            "enqueue_cpu_us_per_job": _extra(r, "enqueue_cpu_us_per_job"),
            "process_cpu_us_per_job": _extra(r, "process_cpu_us_per_job"),
        }
    rss = index.get(("memory.rss", GROUP_OURS))
    if rss is not None and rss.runs:
        keys = (
            "rss_before_mb",
            "rss_growth_enqueued_mb",
            "rss_growth_mb",
            "rss_peak_growth_mb",
            "rss_growth_streamed_mb",
            "enqueue_cpu_us_per_job",
            "process_cpu_us_per_job",
        )
        out[f"{GROUP_OURS}/memory.rss"] = {"jobs": rss.jobs, **{k: _extra(rss, k) for k in keys}}
    return out


SETUP_KEYS = ("threads", "receive_loops", "senders", "hold_limit", "pool")


def setup_summary(reports: Sequence[WorkloadReport]) -> dict[str, dict[str, dict[str, Any]]]:
    """What each processing row ran with: handler threads, receive loops, acknowledgement
    senders, the most messages held at once, and the connection pool, from its first run:
    ``{workload: {group: ...}}``."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in reports:
        run = next((run for run in r.runs if run.extra.get("hold_limit") is not None), None)
        if run is not None:
            setup = {k: run.extra.get(k) for k in SETUP_KEYS}
            out.setdefault(r.spec.name, {}).setdefault(r.spec.group, setup)
    return out


def _setup_value(value: Any) -> str:
    return "-" if value is None else str(value)  # "-": a result file from before the key


def summaries(reports: Sequence[WorkloadReport]) -> dict[str, Any]:
    return {
        "overhead_vs_boto3_at_0ms": overhead_summary(reports),
        "memory": memory_summary(reports),
        "setup": setup_summary(reports),
    }


def format_summaries(reports: Sequence[WorkloadReport]) -> str:
    """The blocks printed under the table (empty when their rows were not run)."""
    blocks: list[str] = []
    overhead = overhead_summary(reports)
    if overhead:
        lines = [
            "Client CPU above the bare boto3 loop at 0 ms (us/job, medians; "
            "ratio: sqs_contracts overhead / sqs-workers overhead):"
        ]
        for name, o in overhead.items():
            ours = f"({o['sqs_contracts_overhead_us']:+.0f})"
            theirs = f"({o['sqs-workers_overhead_us']:+.0f})"
            lines.append(
                f"  {name:14} boto3 {o['boto3_cpu_us']:5.0f}   "
                f"sqs_contracts {o['sqs_contracts_cpu_us']:5.0f} {ours:7}  "
                f"sqs-workers {o['sqs-workers_cpu_us']:5.0f} {theirs:7}  "
                f"ratio {_fmt(o['ratio'], 2)}"
            )
        blocks.append("\n".join(lines))
    memory = memory_summary(reports)
    rows = {k: v for k, v in memory.items() if not k.endswith("/memory.rss")}
    if rows:
        lines = [
            "In memory, CPU us/job (medians): cycle = enqueue (validate + encode + send, in a "
            "batch block) + process (receive, decode + validate + dispatch, ack):",
            f"  {'impl/workload':32} {'jobs':>6} {'cycle':>6} {'enqueue':>8} {'process':>8}",
        ]
        for key, v in rows.items():
            lines.append(
                f"  {key:32} {v['jobs']:6d} {_fmt(v['cycle_cpu_us_per_job'], 1):>6} "
                f"{_fmt(v['enqueue_cpu_us_per_job'], 1):>8} "
                f"{_fmt(v['process_cpu_us_per_job'], 1):>8}"
            )
        blocks.append("\n".join(lines))
    setup = setup_summary(reports)
    if setup:
        lines = [
            "Set-up of the processing rows (threads/receive loops/ack senders/most held/pool):"
        ]
        for name, groups in setup.items():
            parts = [
                f"{g} " + "/".join(_setup_value(s.get(k)) for k in SETUP_KEYS)
                for g, s in groups.items()
            ]
            lines.append(f"  {name:14} " + "   ".join(parts))
        blocks.append("\n".join(lines))
    rss = memory.get(f"{GROUP_OURS}/memory.rss")
    if rss:
        blocks.append(
            f"RSS, {rss['jobs']:,} jobs through MemorySession in a fresh process (worker "
            f"concurrency 4): {rss['rss_before_mb']:.1f} MB before, "
            f"+{rss['rss_growth_enqueued_mb']:.1f} MB with every job queued, "
            f"+{rss['rss_growth_mb']:.1f} MB after processing, peak "
            f"+{rss['rss_peak_growth_mb']:.1f} MB; then {rss['jobs']:,} more jobs streamed "
            f"through a running worker: {rss.get('rss_growth_streamed_mb') or 0:+.1f} MB "
            f"(medians)."
        )
    return "\n\n".join(blocks)


def machine_info(server: SQSServer | None, settings: Settings) -> dict[str, Any]:
    versions: dict[str, str] = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = "not installed"
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "packages": versions,
        "server": None
        if server is None
        else {"kind": server.kind, "version": server.version, "note": server.note},
        "proxy_mode": settings.proxy_mode,
    }


def write_json(
    out_dir: Path,
    reports: Sequence[WorkloadReport],
    server: SQSServer | None,
    settings: Settings,
    started: datetime,
    elapsed: float,
    import_errors: dict[str, str],
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "machine": machine_info(server, settings),
        "settings": {
            "latencies_ms": list(settings.latencies_ms),
            "repeat": settings.repeat,
            "n": settings.n,
            "io_n": settings.io_n,
            "io_sleep_s": settings.io_sleep,
            "mem_n": settings.mem_n,
            "rss_n": settings.rss_n,
            "quick": settings.quick,
            "proxy_at_zero": settings.proxy_at_zero,
            "prefetch": settings.prefetch,
            "receivers": settings.receivers,
        },
        "import_errors": import_errors,
        "summaries": summaries(reports),
        "results": [r.to_json() for r in reports],
    }
    text = json.dumps(_no_nan(doc), indent=2, allow_nan=False) + "\n"
    stamp = started.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"{stamp}.json"
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    return path


def _no_nan(obj: Any) -> Any:
    """NaN (a number not measured, e.g. proxy CPU without a proxy) becomes JSON null."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _no_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_no_nan(v) for v in obj]
    return obj


def now() -> datetime:
    return datetime.now(timezone.utc)


def reports_from_json(doc: dict[str, Any]) -> list[WorkloadReport]:
    """Rebuild the reports of a results file, to print its table again."""
    from benchmarks.harness import RunResult, WorkloadSpec

    reports: list[WorkloadReport] = []
    for item in doc["results"]:
        spec = WorkloadSpec(
            item["workload"],
            item["group"],
            lambda ctx: None,
            "throughput",
            "",
            item.get("needs_server", True),
        )
        report = WorkloadReport(spec, item["latency_ms"], item["status"], item["reason"])
        for run in item["runs"]:
            nan = float("nan")
            report.runs.append(
                RunResult(
                    jobs=run["jobs"],
                    wall=run["wall_s"],
                    cpu=run["cpu_s"],
                    requests=run["requests"],
                    http_requests=run["http_requests"],
                    proxy_cpu=nan if run["proxy_cpu_s"] is None else run["proxy_cpu_s"],
                    server_cpu=nan if run["server_cpu_s"] is None else run["server_cpu_s"],
                    extra=run.get("extra", {}),
                )
            )
        reports.append(report)
    return reports


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report", description="Print the table of a results file."
    )
    parser.add_argument(
        "path", type=Path, nargs="?", default=Path(__file__).parent / "results" / "latest.json"
    )
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    parser.add_argument(
        "--groups", default="", help="comma-separated groups to keep, e.g. boto3,sqs-workers"
    )
    args = parser.parse_args(argv)
    doc = json.loads(args.path.read_text())
    reports = reports_from_json(doc)
    if args.groups:
        keep = set(args.groups.split(","))
        reports = [r for r in reports if r.spec.group in keep]
    m = doc["machine"]
    server = f"{m['server']['kind']} {m['server']['version']}" if m["server"] else "no server"
    print(
        f"{doc['started']}: {m['cpu_count']} CPUs, Python {m['python']}, "
        f"{server}, boto3 {m['packages']['boto3']}, "
        f"sqs-workers {m['packages']['sqs-workers']}; N={doc['settings']['n']}, "
        f"repeat {doc['settings']['repeat']}, {doc['elapsed_s']:.0f} s in all\n"
    )
    print(format_table(reports, markdown=args.markdown))
    extra = format_summaries(reports)
    if extra:
        print()
        print(extra)


if __name__ == "__main__":
    main()
