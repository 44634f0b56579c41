#!/usr/bin/env python3
"""Plots wgv-bench results: ratio (wire / native) against size, one panel per
case, as an SVG file. Standard library only.

    plot.py RESULTS.json OUT.svg
"""
import json
import math
import sys

PANEL_W, PANEL_H = 300, 200
MARGIN_L, MARGIN_B, MARGIN_T = 48, 36, 28
COLS = 4


def esc(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def size_label(case, size):
    if case in ("upload", "readback"):
        if size >= 1 << 20:
            return "%dM" % (size >> 20)
        if size >= 1 << 10:
            return "%dK" % (size >> 10)
    if size >= 1000 and size % 1000 == 0:
        return "%dk" % (size // 1000)
    return str(size)


def panel(out, x0, y0, case, rows):
    rows = sorted(rows, key=lambda r: r["size"])
    ymax = max(1.2, max(r["ratio"] for r in rows) * 1.1)
    plot_w = PANEL_W - MARGIN_L - 12
    plot_h = PANEL_H - MARGIN_T - MARGIN_B
    left, top = x0 + MARGIN_L, y0 + MARGIN_T
    # x: sizes on a log scale (0 sits at the left edge)
    xs = [math.log2(r["size"]) if r["size"] > 0 else -1 for r in rows]
    lo, hi = min(xs), max(xs)
    span = hi - lo if hi > lo else 1.0

    def px(v):
        return left + (v - lo) / span * plot_w if len(rows) > 1 else left + plot_w / 2

    def py(v):
        return top + plot_h - v / ymax * plot_h

    unit = rows[0].get("unit", "")
    out.append('<text x="%d" y="%d" font-size="13" font-weight="bold">%s (%s)</text>'
               % (left, y0 + 16, esc(case), esc(unit)))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>'
               % (left, top, plot_w, plot_h))
    for tick in (0.0, 0.5, 0.9, 1.0):
        if tick > ymax:
            continue
        y = py(tick)
        colour = "#2a2" if tick == 1.0 else "#ccc"
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-dasharray="3,3"/>'
                   % (left, y, left + plot_w, y, colour))
        out.append('<text x="%d" y="%.1f" font-size="10" text-anchor="end">%.1f</text>'
                   % (left - 4, y + 3, tick))
    points = " ".join("%.1f,%.1f" % (px(x), py(r["ratio"])) for x, r in zip(xs, rows))
    out.append('<polyline points="%s" fill="none" stroke="#26c" stroke-width="2"/>' % points)
    for x, r in zip(xs, rows):
        out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="#26c"><title>%s %s: ratio %.3f</title></circle>'
                   % (px(x), py(r["ratio"]), esc(case), r["size"], r["ratio"]))
        out.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>'
                   % (px(x), top + plot_h + 14, esc(size_label(case, r["size"]))))
    out.append('<text x="%d" y="%d" font-size="10" text-anchor="middle">size</text>'
               % (left + plot_w / 2, top + plot_h + 28))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        results = json.load(f)
    cases = {}
    for r in results:
        if r.get("case") == "memory":
            continue
        cases.setdefault(r["case"], []).append(r)
    if not cases:
        sys.exit("plot.py: no results")
    adapter = next((r.get("adapter") for r in results if r.get("adapter")), "")
    rows = (len(cases) + COLS - 1) // COLS
    width, height = COLS * PANEL_W, rows * PANEL_H + 40
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="22" font-size="15">webgpu-virtio: wire / native '
           '(1.0 = as fast as native) on %s</text>' % esc(adapter)]
    for i, (case, case_rows) in enumerate(cases.items()):
        panel(out, (i % COLS) * PANEL_W, 40 + (i // COLS) * PANEL_H, case, case_rows)
    out.append("</svg>")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
