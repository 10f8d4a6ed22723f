"""Render results documents as the Markdown tables of BENCHMARKS.md and check the targets."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
RESULTS_DIR = Path(__file__).resolve().parent / "results"

TARGET_EFFICIENCY = 0.90
TARGET_RSS_MB = 250.0
TARGET_RSS_GROWTH = 0.25
# CPU-cost mode (no latency, no limits): records per CPU-second of the connector process
TARGET_PER_CPU_SECOND = {"stats": 25_000.0, "courses": 10_000.0}
_CPU_TARGET_NAME = {
    "stats": "Statistics ≥ 25,000 rows per CPU-second",
    "courses": "Catalog ≥ 10,000 records per CPU-second, learning paths on",
}


def _f(value: object, digits: int = 1) -> str:
    return f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def _load(step: Mapping[str, Any]) -> tuple[str, str]:
    """Return the sandboxes' CPU (``Udemy / 360``) and the machine's busy share for a step."""
    load = step.get("load")
    if not load:
        return "—", "—"
    sandboxes = f"{_f(load['udemy_sandbox_cpu_seconds'])} / {_f(load['l360_sandbox_cpu_seconds'])}"
    share = load.get("machine_busy_share")
    return sandboxes, (f"{float(share):.0%}" if share is not None else "—")


def _calls(requests: Mapping[str, Any], throttled: Mapping[str, Any]) -> str:
    parts = []
    for key, n in requests.items():
        extra = f" ({throttled[key]}×429)" if throttled.get(key) else ""
        parts.append(f"`{key}` {n}{extra}")
    return "; ".join(parts) or "—"


def render_scale(res: Mapping[str, Any]) -> str:
    """Return the Markdown section for one results document."""
    s, m, t = res["settings"], res["machine"], res["settings"]["tenant"]
    lim = s["limits"]
    lines = [
        f"### Scale {s['scale']:g}",
        "",
        f"- Date: {res['date']} · machine: {m['cores']} cores, {m['ram_gb']} GB RAM, "
        f"Python {m['python']} ({m['platform']})",
        f"- Command: `{res['command']}` · whole benchmark took {_f(res['duration_seconds'], 0)} s",
        f"- Tenant: {t['courses']} courses, {t['learning_paths']} learning paths, "
        f"{t['learners']} learners, {t['activity_rows']} activity rows "
        f"(learning paths {'on' if s['learning_paths'] else 'off'}, "
        f"tags {'on' if s['tags'] else 'off'})",
        f"- Udemy: {lim['udemy_latency'] * 1000:g} ms per page, {lim['udemy_rps']:g} requests/s "
        f"(429 + Retry-After above); client concurrency {s['udemy_concurrency']}",
        f"- 360Learning: {lim['l360_latency'] * 1000:g} ms per call, "
        f"{lim['l360_reads_per_second']:g} GET/s, {lim['l360_writes_per_second']:g} writes/s, "
        f"{lim['bulk_concurrency']} concurrent bulk operations; bulk processing "
        f"{lim['bulk_pending']:g} s pending + {lim['bulk_queued']:g} s queued + "
        f"{lim['bulk_per_item'] * 1000:g} ms per item",
        "",
        "| Scenario | Job | Status | Wall s | Bound s | Efficiency | Udemy pages | "
        "360 writes | Items sent (needed) | Peak RSS MB | CPU s | Sandbox CPU s (Udemy / 360) "
        "| Machine busy |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    tags = res.get("tags")
    for sc in [*res.get("scenarios", []), *([tags] if tags else [])]:
        for st in sc["steps"]:
            sent = {k: v for k, v in (st["server"]["l360"].get("bulk_items") or {}).items() if v}
            sent_total = sum(sent.values())
            needed = sum(st["needed_items"].values())
            sandboxes, busy = _load(st)
            title = sc["title"]
            if "scale" in sc and sc["scale"] != s["scale"]:
                title += f" (scale {sc['scale']:g}: {sc['tenant']['courses']} courses)"
            lines.append(
                f"| {title} | {st['job']} | {st['status']} | {_f(st['wall_seconds'])} | "
                f"{_f(st['bound']['seconds'])} | {_f(st['efficiency'], 2)} | "
                f"{st['workload']['udemy_pages']} | {st['server']['l360']['writes']} | "
                f"{sent_total} ({needed}) | {_f(st['peak_rss_mb'], 0)} | {_f(st['cpu_seconds'])} "
                f"| {sandboxes} | {busy} |"
            )
    lines += ["", "Requests per endpoint, as the sandboxes saw them (429s in brackets):", ""]
    lines += ["| Scenario | Job | Udemy | 360Learning |", "|---|---|---|---|"]
    for sc in [*res.get("scenarios", []), *([tags] if tags else [])]:
        for st in sc["steps"]:
            u, l3 = st["server"]["udemy"], st["server"]["l360"]
            lines.append(
                f"| {sc['name']} | {st['job']} | {_calls(u['requests'], u['throttled'])} | "
                f"{_calls(l3['requests'], l3['throttled'])} |"
            )
    cpu = res.get("cpu")
    if cpu:
        repeat = int(cpu.get("repeat", 1))
        lines += [
            "",
            "CPU cost per record (latency, rate limits and bulk delays off; the connector "
            "process only"
            + (f"; median of {repeat} runs" if repeat > 1 else "")
            + (
                f"; `{cpu['command']}`, {cpu['date']}"
                if cpu.get("command") not in (None, res["command"])
                else ""
            )
            + "):",
            "",
            "| Job | Records | CPU s | µs per record | Records per CPU-second | Target | Met "
            "| Peak RSS MB | Sandbox CPU s (Udemy / 360) | Machine busy |",
            "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
        ]
        for job in ("courses", "stats"):
            if job in cpu:
                c = cpu[job]
                rate = float(c["records_per_cpu_second"])
                target = TARGET_PER_CPU_SECOND[job]
                sandboxes, busy = _load(c)
                lines.append(
                    f"| {job} | {c['records']} | {_f(c['cpu_seconds'], 2)} | "
                    f"{_f(1e6 / rate if rate else 0, 0)} | {_f(rate, 0)} | {target:,.0f} | "
                    f"{'yes' if rate >= target else '**no**'} | {_f(c['peak_rss_mb'], 0)} | "
                    f"{sandboxes} | {busy} |"
                )
    peer = res.get("peer")
    if peer:
        where = (
            f"a tenant at scale {peer['scale']:g} ({peer['tenant']['courses']} courses, "
            f"{peer['tenant']['activity_rows']} activity rows), same settings"
            if "scale" in peer
            else "the same sandbox and settings"
        )
        if "command" in peer and peer["command"] != res["command"]:
            where += f" (`{peer['command']}`, {peer['date']})"
        lines += [
            "",
            f"Udemy extraction (courses + user-course activity) against {where}:",
            "",
            "| Extractor | Concurrency | Wall s | CPU s | Peak RSS MB | Udemy requests (429) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name in ("udemy360", "udemy360-c1", "dlt"):
            p = peer[name]
            reqs = sum(p["udemy_requests"].values())
            thr = sum(p["udemy_throttled"].values())
            lines.append(
                f"| {name} | {p['concurrency']} | {_f(p['wall_seconds'])} | "
                f"{_f(p['cpu_seconds'])} | {_f(p['peak_rss_mb'], 0)} | {reqs} ({thr}) |"
            )
        lines += [
            "",
            f"dlt ÷ udemy360: **{_f(peer['ratio_default'], 2)}×** at our default concurrency, "
            f"**{_f(peer['ratio_c1'], 2)}×** at concurrency 1 (above 1 = udemy360 is faster).",
        ]
    return "\n".join(lines)


def _scenario(res: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for sc in res.get("scenarios", []):
        if sc["name"] == name:
            return sc  # type: ignore[no-any-return]
    return None


def render_targets(all_results: Mapping[float, Mapping[str, Any]]) -> str:
    """Return the target check table over every scale measured."""
    rows = ["| Target | Scale | Measured | Met |", "|---|---|---|---|"]

    def add(target: str, scale: float, measured: str, ok: bool) -> None:
        rows.append(f"| {target} | {scale:g} | {measured} | {'yes' if ok else '**no**'} |")

    for scale, res in sorted(all_results.items()):
        for name in ("initial-catalog", "initial-stats"):
            sc = _scenario(res, name)
            if sc:
                eff = float(sc["efficiency"])
                add(
                    f"Efficiency ≥ {TARGET_EFFICIENCY:.2f} ({name})",
                    scale,
                    _f(eff, 2),
                    eff >= TARGET_EFFICIENCY,
                )
        tags = res.get("tags")
        if tags:
            rows.append(
                f"| Efficiency, initial catalog with tag sync on (reported) | "
                f"{float(tags['scale']):g} | {_f(tags['efficiency'], 2)} "
                f"({tags['steps'][0]['bound']['tag_writes']} tag writes) | — |"
            )
        cpu = res.get("cpu")
        for job in ("stats", "courses"):
            if cpu and job in cpu:
                rate = float(cpu[job]["records_per_cpu_second"])
                add(
                    f"{_CPU_TARGET_NAME[job]} (CPU-cost mode)",
                    scale,
                    f"{rate:,.0f}",
                    rate >= TARGET_PER_CPU_SECOND[job],
                )
        sc = _scenario(res, "daily-nochange")
        if sc:
            add(
                "Zero writes, no-change daily run",
                scale,
                str(sc["l360_writes"]),
                sc["l360_writes"] == 0,
            )
        sc = _scenario(res, "daily-change")
        if sc:
            sent = sum(
                sum((st["server"]["l360"].get("bulk_items") or {}).values()) for st in sc["steps"]
            )
            mut = sc["mutation"]
            expected = int(mut.get("courses_changed", 0)) + int(mut.get("enrollments_advanced", 0))
            add(
                "Writes proportional to the change (1%/5% run)",
                scale,
                f"{sc['l360_writes']} write calls, {sent} items for {expected} changes",
                expected > 0 and sent <= 1.05 * expected + 10,
            )
        peer = res.get("peer")
        if peer:
            add(
                "Faster than dlt at default settings",
                scale,
                f"dlt ÷ udemy360 = {_f(peer['ratio_default'], 2)}",
                peer["ratio_default"] > 1,
            )
            add(
                "No slower than dlt at concurrency 1",
                scale,
                f"dlt ÷ udemy360 = {_f(peer['ratio_c1'], 2)}",
                peer["ratio_c1"] >= 0.97,
            )
    peaks = {
        scale: max(float(sc["peak_rss_mb"]) for sc in res.get("scenarios", []))
        for scale, res in all_results.items()
        if res.get("scenarios")
    }
    if 1.0 in peaks:
        add(
            f"Peak RSS < {TARGET_RSS_MB:g} MB",
            1.0,
            f"{_f(peaks[1.0], 0)} MB",
            peaks[1.0] < TARGET_RSS_MB,
        )
    if 1.0 in peaks and 0.1 in peaks:
        growth = peaks[1.0] / peaks[0.1] - 1
        rows.append(
            f"| Peak RSS growth 0.1 → 1.0 < {TARGET_RSS_GROWTH:.0%} | 0.1 → 1.0 | "
            f"{_f(peaks[0.1], 0)} → {_f(peaks[1.0], 0)} MB ({growth:+.0%}) | "
            f"{'yes' if growth < TARGET_RSS_GROWTH else '**no**'} |"
        )
    return "\n".join(rows)


def load_all() -> dict[float, dict[str, Any]]:
    """Load every ``bench/results/scale-*.json``."""
    out: dict[float, dict[str, Any]] = {}
    for path in sorted(RESULTS_DIR.glob("scale-*.json")):
        res = json.loads(path.read_text())
        out[float(res["settings"]["scale"])] = res
    return out


def _replace_block(text: str, name: str, body: str) -> str:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip("\n") + "\n\n" + block + "\n"


def update_benchmarks_md() -> None:
    """Rewrite the generated blocks of BENCHMARKS.md from every results file present."""
    all_results = load_all()
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    text = _replace_block(text, "targets", render_targets(all_results))
    for scale, res in sorted(all_results.items()):
        text = _replace_block(text, f"scale-{scale:g}", render_scale(res))
    BENCHMARKS.write_text(text)
