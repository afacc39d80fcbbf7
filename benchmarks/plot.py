"""Draw `perf scale` results as an SVG (written by hand: no plotting library is installed here).

    .venv/bin/python -m benchmarks.plot DIR/results.jsonl docs/scaling.svg

Left: retrieval latency without the query embedding (what the deployments change), p50 and p95 by index size,
log scale; right: resident memory of the querying process, and of the Chroma server in server mode. Medians
over the alternating runs of each size.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

W, H = 920, 380
PANEL_W, PANEL_H = 360, 260
COLORS = {"embedded": "#1f77b4", "server": "#d62728", "chroma server": "#2ca02c"}


def series(rows: list[dict[str, Any]]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{panel: {line label: [(size, value)]}} from the latency rows (medians over runs)."""
    by: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("event") == "latency":
            by[(r["mode"], r["size"])].append(r)
    out: dict[str, dict[str, list[tuple[int, float]]]] = {"latency": defaultdict(list), "memory": defaultdict(list)}
    for (mode, size), runs in sorted(by.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        for p in ("50", "95"):
            out["latency"][f"{mode} p{p}"].append(
                (size, statistics.median(r.get(f"search_p{p}_ms", r[f"retrieve_p{p}_ms"]) for r in runs)))
        # Resident memory at the end of the run (its peak too, from 100k on; the first 10k runs read a wrong peak).
        out["memory"][f"{mode}: querying process"].append((size, statistics.median(r["rss_mb"] for r in runs)))
        servers = [r["chroma_server"]["rss_mb"] for r in runs if "chroma_server" in r]
        if servers:
            out["memory"]["chroma server (RSS)"].append((size, statistics.median(servers)))
    return out


def _nice(value: float) -> float:
    """A round axis top at or above `value`, in 4 equal ticks of 1, 2, 2.5, 4, 5 or 8 times a power of ten."""
    step = max(value, 1e-9) / 4
    power = 10 ** math.floor(math.log10(step))
    return float(4 * power * next(m for m in (1, 2, 2.5, 4, 5, 8, 10) if m * power >= step))


def _color(label: str) -> str:
    for key, color in COLORS.items():
        if label.startswith(key):
            return color
    return "#555"


def panel(x0: float, y0: float, title: str, unit: str, lines: dict[str, list[tuple[int, float]]]) -> list[str]:
    points = [p for pts in lines.values() for p in pts]
    if not points:
        return []
    sizes = sorted({s for s, _ in points})
    lo, hi = math.log10(min(sizes)), math.log10(max(sizes))
    hi = hi if hi > lo else lo + 1
    top = _nice(max(v for _, v in points) * 1.1)

    def px(size: float) -> float:
        return x0 + (math.log10(size) - lo) / (hi - lo) * PANEL_W

    def py(value: float) -> float:
        return y0 + PANEL_H - value / top * PANEL_H

    svg = [f'<text x="{x0}" y="{y0 - 12}" font-size="14" font-weight="bold">{title}</text>',
           f'<line x1="{x0}" y1="{y0 + PANEL_H}" x2="{x0 + PANEL_W}" y2="{y0 + PANEL_H}" stroke="#333"/>',
           f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y0 + PANEL_H}" stroke="#333"/>',
           f'<text x="{x0 + PANEL_W / 2}" y="{y0 + PANEL_H + 36}" font-size="12" text-anchor="middle">'
           'chunks in the index (log scale)</text>',
           f'<text x="{x0 - 46}" y="{y0 + PANEL_H / 2}" font-size="12" text-anchor="middle" '
           f'transform="rotate(-90 {x0 - 46} {y0 + PANEL_H / 2})">{unit}</text>']
    for size in sizes:
        svg.append(f'<text x="{px(size)}" y="{y0 + PANEL_H + 16}" font-size="11" text-anchor="middle">'
                   f'{size // 1000:,}k</text>')
    for i in range(5):
        v = top / 4 * i
        svg.append(f'<line x1="{x0}" y1="{py(v)}" x2="{x0 + PANEL_W}" y2="{py(v)}" stroke="#ddd"/>')
        svg.append(f'<text x="{x0 - 6}" y="{py(v) + 4}" font-size="11" text-anchor="end">{v:,.0f}</text>')
    for n, (label, pts) in enumerate(sorted(lines.items())):
        color, dash = _color(label), ' stroke-dasharray="5,4"' if "p95" in label else ""
        path = " ".join(f"{px(s):.1f},{py(v):.1f}" for s, v in sorted(pts))
        svg.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        svg += [f'<circle cx="{px(s):.1f}" cy="{py(v):.1f}" r="3" fill="{color}"/>' for s, v in pts]
        ly = y0 + 6 + n * 16
        svg.append(f'<line x1="{x0 + 12}" y1="{ly}" x2="{x0 + 36}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/>')
        svg.append(f'<text x="{x0 + 40}" y="{ly + 4}" font-size="11">{label}</text>')
    return svg


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", type=Path, help="`perf scale` results (JSON lines)")
    p.add_argument("svg", type=Path, help="the SVG to write")
    args = p.parse_args(argv)
    rows = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    data = series(rows)
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">',
            f'<rect width="{W}" height="{H}" fill="white"/>',
            *panel(80, 50, "Retrieval without the query embedding", "ms per question", data["latency"]),
            *panel(540, 50, "Memory", "MB resident", data["memory"]), "</svg>"]
    args.svg.write_text("\n".join(body) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
