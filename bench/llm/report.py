#!/usr/bin/env python3
"""Reads the runs of scripts/bench-llm and reports them: a table on stdout,
OUT/llm.json and a plot, OUT/llm.svg. Standard library only.

    report.py OUT

OUT/runs holds, per mode (native, native-safe, wire), model and round R,
the output of ggml's GPT-2 example run twice: with -n 1 (the prompt is
evaluated, one token sampled: NAME-pp-rR.txt) and with -n G (the prompt and
G-1 more evaluations: NAME-full-rR.txt); the VM's runs (one round) are all
in vm.txt, in the order vm-order.txt lists; the MUL_MAT perf runs are
matmul-MODE.txt. OUT/setup.json says what was run (prompt length, tokens
generated, rounds, device, ...).

Prompt processing tokens/s is P / t(pp); generation tokens/s is
(G - 1) / (t(full) - t(pp)), t being the example's own "predict time" (the
model's evaluations only: no loading, no sampling), both from the same
round. A mode's figures are the medians over its rounds; "rounds" lists
each round's.
"""
import json
import os
import re
import sys

MODES = ["native", "native-safe", "wire", "vm"]
WORD = re.compile(r" w([a-z]{4})")
PREDICT = re.compile(r"predict time =\s*([0-9.]+) ms")
LOAD = re.compile(r"load time =\s*([0-9.]+) ms")
CPU = re.compile(r"\b(user|sys) ([0-9.]+)")
MATMUL = re.compile(r"MUL_MAT\((type_a=(\w+),type_b=\w+,m=(\d+),n=(\d+),k=(\d+)[^)]*)\):\s+(\d+) runs - "
                    r"\s*([0-9.]+) us/run - \s*([0-9.]+) ([GMT]?)FLOP/run - \s*(?:\x1b\[[0-9;]*m)?\s*"
                    r"([0-9.]+) ([GMT]?)FLOPS")


def token_id(letters):
    n = 0
    for c in letters:
        n = n * 26 + (ord(c) - ord("a"))
    return n


def parse_gpt2(text):
    """predict ms, load ms and the token ids of the text line (prompt and
    generated), or None where missing."""
    lines = text.splitlines()
    tokens = None
    for i, line in enumerate(lines):
        if "number of tokens in prompt" in line:
            for follow in lines[i + 1:]:
                if follow.strip():
                    tokens = [token_id(m) for m in WORD.findall(follow)]
                    break
            break
    p = PREDICT.search(text)
    l = LOAD.search(text)
    cpu = [float(v) for line in lines if line.startswith("cpu: ") for _, v in CPU.findall(line)]
    return {
        "predict_ms": float(p.group(1)) if p else None,
        "load_ms": float(l.group(1)) if l else None,
        "cpu_s": sum(cpu) if cpu else None,
        "tokens": tokens,
    }


def vm_sections(text):
    """The guest's output per client, from run-vm's lines."""
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"guest: (ok  |FAIL) (client\d*) ", line)
        if m:
            name = m.group(2)
            out[name] = []
            continue
        if name and line.startswith("guest:     "):
            out[name].append(line[len("guest:     "):])
        elif line.startswith("guest: ") and not line.startswith("guest:     "):
            name = None
    return {k: "\n".join(v) for k, v in out.items()}


ROUND_KEYS = ("load_ms", "pp_ms", "full_ms", "pp_tps", "tg_tps", "cpu_pp_s", "cpu_full_s",
              "tg_ms_per_token", "tg_cpu_ms_per_token")


def one_round(a, b, prompt, gen):
    """One round's figures from its -n 1 run (a) and -n G run (b)."""
    r = {"load_ms": b["load_ms"], "pp_ms": a["predict_ms"], "full_ms": b["predict_ms"],
         "pp_tps": None, "tg_tps": None, "cpu_pp_s": a["cpu_s"], "cpu_full_s": b["cpu_s"],
         "tg_ms_per_token": None, "tg_cpu_ms_per_token": None, "token_ids": b["tokens"]}
    if a["predict_ms"]:
        r["pp_tps"] = prompt / (a["predict_ms"] / 1000.0)
    if a["predict_ms"] and b["predict_ms"] and b["predict_ms"] > a["predict_ms"] and gen > 1:
        r["tg_tps"] = (gen - 1) / ((b["predict_ms"] - a["predict_ms"]) / 1000.0)
        r["tg_ms_per_token"] = (b["predict_ms"] - a["predict_ms"]) / (gen - 1)
    if a["cpu_s"] is not None and b["cpu_s"] is not None and gen > 1:
        # CPU time of the process (wgv-server's too through the wire; the
        # guest's own in the VM) per generated token.
        r["tg_cpu_ms_per_token"] = (b["cpu_s"] - a["cpu_s"]) * 1000.0 / (gen - 1)
    return r


def median(values):
    """The median of the values that are there (None if none are)."""
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2.0


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def scale(prefix):
    return {"": 1e-9, "M": 1e-3, "G": 1.0, "T": 1e3}[prefix]


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n\n")[1])
        return 2
    out = sys.argv[1]
    runs = os.path.join(out, "runs")
    setup = json.loads(read(os.path.join(out, "setup.json")) or "{}")
    prompt, gen = setup.get("prompt_tokens", 0), setup.get("tokens", 0)
    models = setup.get("models", [])

    # raw[(mode, model, kind)]: the texts of its rounds, in order.
    raw = {}
    for mode in MODES[:3]:
        for model in models:
            for kind in ("pp", "full"):
                texts = []
                for r in range(1, int(setup.get("rounds", 1)) + 1):
                    t = read(os.path.join(runs, "%s-%s-%s-r%d.txt" % (mode, model, kind, r)))
                    if t is not None:
                        texts.append(t)
                if texts:
                    raw[(mode, model, kind)] = texts
    vm_text = read(os.path.join(runs, "vm.txt"))
    if vm_text:
        order = (read(os.path.join(runs, "vm-order.txt")) or "").split()
        sections = vm_sections(vm_text)
        for i, key in enumerate(order):
            model, kind = key.rsplit("-", 1)
            name = "client" if i == 0 else "client%d" % (i + 1)
            if name in sections:
                raw[("vm", model, kind)] = [sections[name]]

    results = []
    for model in models:
        for mode in MODES:
            pps, fulls = raw.get((mode, model, "pp"), []), raw.get((mode, model, "full"), [])
            if not pps and not fulls:
                continue
            rounds = [one_round(parse_gpt2(pp), parse_gpt2(full), prompt, gen)
                      for pp, full in zip(pps + [""] * (len(fulls) - len(pps)),
                                          fulls + [""] * (len(pps) - len(fulls)))]
            r = {"model": model, "mode": mode, "prompt_tokens": prompt, "tokens": gen}
            for key in ROUND_KEYS:
                r[key] = median([x[key] for x in rounds])
            # Every round's ids, when they agree; else the first that differs.
            ids = [x["token_ids"] for x in rounds]
            r["token_ids"] = next((t for t in ids if t != ids[0]), ids[0])
            r["rounds"] = [{k: x[k] for k in ("pp_tps", "tg_tps")} for x in rounds]
            results.append(r)

    # Tokens: every mode's generated ids must be those of the first native
    # mode run (native, else native-safe). A model that does not run
    # natively either is not runnable here (reported with the native run's
    # last words), not a failure of the other modes.
    identical, not_runnable = {}, {}
    for model in models:
        rows = [r for r in results if r["model"] == model]
        ref_row = next((r for m in ("native", "native-safe") for r in rows if r["mode"] == m), None)
        ref = ref_row["token_ids"] if ref_row else None
        if not ref or len(ref) != prompt + gen:
            ref_mode = ref_row["mode"] if ref_row else "native"
            err = read(os.path.join(runs, "%s-%s-full-r1.err" % (ref_mode, model))) or ""
            why = [l for l in err.splitlines()
                   if re.search(r"\.cpp:\d+:|error|abort|assert|cannot", l, re.I) and "0 tests failed" not in l]
            not_runnable[model] = why[0].strip() if why else "no tokens natively"
            for r in rows:
                r["tokens_match_native"] = None
            continue
        ok = True
        for r in rows:
            r["tokens_match_native"] = r["token_ids"] == ref
            ok = ok and r["tokens_match_native"]
        identical[model] = ok

    matmul = []
    for mode in ("native", "wire"):
        t = read(os.path.join(runs, "matmul-%s.txt" % mode))
        for m in MATMUL.finditer(t or ""):
            matmul.append({"mode": mode, "case": m.group(1), "type": m.group(2), "m": int(m.group(3)),
                           "n": int(m.group(4)), "k": int(m.group(5)), "runs": int(m.group(6)),
                           "us_per_run": float(m.group(7)),
                           "gflops": float(m.group(10)) * scale(m.group(11))})

    def find(model, mode):
        return next((r for r in results if r["model"] == model and r["mode"] == mode), None)

    def ratio(x, y, key):
        if x and y and x.get(key) and y.get(key):
            return x[key] / y[key]
        return None

    summary = []
    for model in models:
        nat, safe, wire, vm = (find(model, m) for m in MODES)
        summary.append({
            "model": model,
            "safety_pp": ratio(safe, nat, "pp_tps"), "safety_tg": ratio(safe, nat, "tg_tps"),
            "wire_pp": ratio(wire, safe, "pp_tps"), "wire_tg": ratio(wire, safe, "tg_tps"),
            "vm_pp": ratio(vm, safe, "pp_tps"), "vm_tg": ratio(vm, safe, "tg_tps"),
            "tokens_identical": identical.get(model),
            "not_runnable": not_runnable.get(model),
        })
    mm_summary = []
    for case in sorted({x["case"] for x in matmul}):
        n = next((x for x in matmul if x["case"] == case and x["mode"] == "native"), None)
        w = next((x for x in matmul if x["case"] == case and x["mode"] == "wire"), None)
        mm_summary.append({"case": case, "native_gflops": n and n["gflops"], "wire_gflops": w and w["gflops"],
                           "ratio": ratio(w, n, "gflops")})

    doc = {"setup": setup, "gpt2": results, "summary": summary, "matmul": matmul,
           "matmul_summary": mm_summary}
    with open(os.path.join(out, "llm.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")

    def fmt(v, spec="%.2f"):
        return "-" if v is None else spec % v

    print("GPT-2 (ggml's examples/gpt-2), prompt %d tokens, %d generated, on %s" % (
        prompt, gen, setup.get("adapter", "?")))
    print("(medians of %d rounds; the host modes take turns in each round)" % int(setup.get("rounds", 1)))
    print("%-10s %-12s %7s %9s %9s %9s %9s %-9s %s" % ("model", "mode", "load s", "pp tok/s", "tg tok/s",
                                                      "ms/token", "cpu ms", "tokens", "tg tok/s by round"))
    for r in results:
        print("%-10s %-12s %7s %9s %9s %9s %9s %-9s %s" % (
            r["model"], r["mode"], fmt(r["load_ms"] and r["load_ms"] / 1000.0, "%.1f"), fmt(r["pp_tps"]),
            fmt(r["tg_tps"]), fmt(r["tg_ms_per_token"], "%.1f"), fmt(r["tg_cpu_ms_per_token"], "%.1f"),
            {True: "same", False: "DIFFERENT", None: "-"}[r["tokens_match_native"]],
            " ".join(fmt(x["tg_tps"]) for x in r["rounds"])))
    for s in summary:
        if s["not_runnable"]:
            print("%s: does not run natively either: %s" % (s["model"], s["not_runnable"]))
            continue
        print("%s: safe/native pp %s tg %s; wire/safe pp %s tg %s; vm/safe pp %s tg %s; tokens %s" % (
            s["model"], fmt(s["safety_pp"]), fmt(s["safety_tg"]), fmt(s["wire_pp"]), fmt(s["wire_tg"]),
            fmt(s["vm_pp"]), fmt(s["vm_tg"]), "identical" if s["tokens_identical"] else "NOT identical"))
    if mm_summary:
        print("test-backend-ops perf MUL_MAT (GFLOPS): native, wire, wire/native")
        for s in mm_summary:
            print("  %-50s %8s %8s %6s" % (s["case"][:50], fmt(s["native_gflops"], "%.2f"),
                                           fmt(s["wire_gflops"], "%.2f"), fmt(s["ratio"], "%.3f")))
    plot(os.path.join(out, "llm.svg"), results, mm_summary, setup)
    return 0 if identical and all(identical.values()) else 1


def plot(path, results, mm, setup):
    """Grouped bars: tokens/s per mode, prompt and generation per model; then
    the matmul ratios."""
    colors = {"native": "#4c72b0", "native-safe": "#55a868", "wire": "#c44e52", "vm": "#8172b2"}
    groups = []
    for model in setup.get("models", []):
        for key, label in (("pp_tps", "prompt"), ("tg_tps", "generation")):
            bars = [(r["mode"], r[key]) for r in results if r["model"] == model and r[key]]
            if bars:
                groups.append(("%s %s" % (model, label), bars))
    w, h = 160 * max(1, len(groups)) + 80, 300
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="11">' % (w, h + (150 if mm else 0))]
    svg.append('<text x="10" y="16" font-size="13">GPT-2 tokens/s (%s)</text>' % esc(setup.get("adapter", "")))
    for gi, (label, bars) in enumerate(groups):
        top = max(v for _, v in bars) * 1.15
        x0 = 60 + gi * 160
        for bi, (mode, v) in enumerate(bars):
            bh = (h - 80) * v / top
            x = x0 + bi * 32
            svg.append('<rect x="%d" y="%.1f" width="26" height="%.1f" fill="%s"/>' % (
                x, h - 40 - bh, bh, colors.get(mode, "#999")))
            svg.append('<text x="%d" y="%.1f" font-size="9">%.2f</text>' % (x, h - 44 - bh, v))
        svg.append('<text x="%d" y="%d">%s</text>' % (x0, h - 24, esc(label)))
    for i, (mode, c) in enumerate(colors.items()):
        svg.append('<rect x="%d" y="26" width="10" height="10" fill="%s"/><text x="%d" y="35">%s</text>' % (
            60 + i * 110, c, 74 + i * 110, mode))
    if mm:
        y = h + 20
        svg.append('<text x="10" y="%d" font-size="13">MUL_MAT wire / native</text>' % y)
        for i, s in enumerate(mm):
            if s["ratio"] is None:
                continue
            bw = 300 * min(s["ratio"], 1.5)
            svg.append('<rect x="250" y="%d" width="%.1f" height="14" fill="#c44e52"/>' % (y + 10 + i * 20, bw))
            svg.append('<text x="10" y="%d">%s</text><text x="%.1f" y="%d">%.3f</text>' % (
                y + 21 + i * 20, esc(s["case"][:40]), 255 + bw, y + 21 + i * 20, s["ratio"]))
        svg.append('<line x1="550" y1="%d" x2="550" y2="%d" stroke="#333" stroke-dasharray="3"/>' % (
            y + 8, y + 12 + 20 * len(mm)))
    svg.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")


def esc(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


if __name__ == "__main__":
    sys.exit(main())
