#!/usr/bin/env python3
"""bench/run's results: one JSON file per case, statistics, and the report.

    results.py row FILE --case ID --title TEXT --label TEXT --metric UNIT --better higher|lower
                        --dfd-name NAME --dfd "V V ..." [--peer-name NAME --peer "V V ..."]
                        [--peer-recorded V --peer-source TEXT] [--goal-min V] [--goal-max V]
                        [--goal-ratio-min V] [--goal-ratio-max V] [--goal TEXT] [--note TEXT]
                        [--self-peer]
    results.py skip FILE --case ID --title TEXT --reason TEXT
    results.py note FILE --case ID --title TEXT [--note TEXT] [--command TEXT]
    results.py stamp FILE --date TEXT --mode quick|full --dfd TEXT --load TEXT
    results.py extract OLD.json --case ID OUT      (a case of an earlier report, for --merge)
    results.py report --meta META.json --json OUT.json --md OUT.md CASEFILE...

A case file holds {"id", "title", "status": "ok"|"skipped"|"failed", "reason", "notes", "rows"};
`row` appends one row (the case file is created on first use) with every run's value, the median,
min, max and quartiles of each side and the ratio dfd median / peer median. `better` says which
direction is good for the metric, so the report can say plainly where dfd is behind. A peer may be
measured in the same run (--peer) or a figure recorded elsewhere (--peer-recorded, with its
source); with neither, the row states the absolute figure. `report` merges the case files with
the machine and versions (META) into one JSON document and writes the Markdown page. `stamp`
records when and on what a case ran, so a report can mix cases of several runs (bench/run
--merge) and still say where each came from. Only the standard library: no pip packages.
"""
import argparse
import json
import os
import statistics
import sys


def summary(values):
    """median, min, max, q1, q3 of a non-empty list of numbers (quartiles by the inclusive method)."""
    v = sorted(float(x) for x in values)
    if not v:
        raise ValueError("no values")
    if len(v) >= 2:
        q1, _, q3 = statistics.quantiles(v, n=4, method="inclusive")
    else:
        q1 = q3 = v[0]
    return {"runs": v, "median": statistics.median(v), "min": v[0], "max": v[-1], "q1": q1, "q3": q3}


def parse_values(text):
    vals = [float(x) for x in text.replace(",", " ").split()]
    if not vals:
        raise SystemExit("results.py: an empty list of values")
    return vals


def load_case(path, case, title):
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    else:
        data = {"id": case, "title": title, "status": "ok", "reason": "", "notes": [], "rows": []}
    return data


def save(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def make_row(a):
    row = {"label": a.label, "metric": a.metric, "better": a.better,
           "dfd": dict(name=a.dfd_name, **summary(parse_values(a.dfd))), "peer": None,
           "ratio": None, "goal": a.goal or "", "goal_met": None, "note": a.note or "",
           "self_peer": bool(a.self_peer)}
    if a.peer is not None:
        row["peer"] = dict(name=a.peer_name or "peer", measured=True, **summary(parse_values(a.peer)))
    elif a.peer_recorded is not None:
        row["peer"] = {"name": a.peer_name or "recorded figure", "measured": False,
                       "median": float(a.peer_recorded), "source": a.peer_source or ""}
    if row["peer"] and row["peer"]["median"] > 0:
        row["ratio"] = row["dfd"]["median"] / row["peer"]["median"]
    med, ratio = row["dfd"]["median"], row["ratio"]
    checks, words = [], []
    if a.goal_min is not None:
        checks.append(med >= a.goal_min)
        words.append(f"dfd >= {a.goal_min:g} {a.metric}")
    if a.goal_max is not None:
        checks.append(med <= a.goal_max)
        words.append(f"dfd <= {a.goal_max:g} {a.metric}")
    if a.goal_ratio_min is not None:
        checks.append(ratio is not None and ratio >= a.goal_ratio_min)
        words.append(f"ratio >= {a.goal_ratio_min:g}")
    if a.goal_ratio_max is not None:
        checks.append(ratio is not None and ratio <= a.goal_ratio_max)
        words.append(f"ratio <= {a.goal_ratio_max:g}")
    if checks:
        row["goal_met"] = all(checks)
        row["goal"] = row["goal"] or " and ".join(words)
    return row


LEVEL = 0.02  # within 2 % of the peer counts as level, not behind


def behind(row):
    """True when dfd's median is worse than its peer's by more than LEVEL (by the metric's
    direction). A row comparing two dfd set-ups (self_peer) has no "behind"."""
    if row.get("ratio") is None or row.get("self_peer"):
        return False
    return row["ratio"] < 1 - LEVEL if row["better"] == "higher" else row["ratio"] > 1 + LEVEL


def fmt(x):
    if x is None:
        return "–"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def spread(side):
    if "min" not in side:
        return "recorded"
    return f"{fmt(side['min'])}–{fmt(side['max'])} (IQR {fmt(side['q1'])}–{fmt(side['q3'])}, n={len(side['runs'])})"


def behind_sentence(case, row):
    p, d = row["peer"], row["dfd"]
    return (f"**dfd is behind** {p['name']} in {case['title']}, {row['label']}: "
            f"{fmt(d['median'])} against {fmt(p['median'])} {row['metric']}, "
            f"{row['ratio']:.2f}× the peer's ({row['better']} is better).")


def markdown(doc):
    m, v = doc["machine"], doc["versions"]
    out = ["# Benchmarks", "",
           f"Written by `bench/run{' --quick' if doc['mode'] == 'quick' else ''}` on {doc['date']} "
           f"({'a quick run: small sizes, few runs' if doc['mode'] == 'quick' else 'a full run'}); "
           "the same figures are in `bench/results.json`. Every case runs dfd and its peer "
           "interleaved (dfd, peer, dfd, peer, …) on the same machine in the same run; a figure is "
           "the median of the runs, the spread is min–max and the interquartile range; the ratio is "
           "dfd's median over the peer's (above 1 is better for dfd where higher is better, below 1 "
           "where lower is better).", ""]
    if doc.get("notice"):
        out += [f"> {doc['notice']}", ""]
    runs = {(c["run"]["date"], c["run"]["mode"]) for c in doc["cases"] if c.get("run")}
    if len(runs) > 1:
        out += ["> The cases below come from more than one run (`bench/run --merge`); each case says "
                "when it ran, in which mode and on which commit. The machine and versions are those "
                "of the latest run.", ""]
    out += ["## Machine and versions", "", "| | |", "|---|---|",
            f"| CPU | {m['cpu']} |", f"| cores | {m['cores']} |", f"| memory | {m['memory']} |",
            f"| kernel | {m['kernel']} |",
            f"| load average | {m.get('load_before', '?')} before, {m.get('load_after', '?')} after |"]
    for k in ("dfd", "aria2c", "nginx", "rabbitmq", "postgresql", "openssl", "curl", "wrk"):
        if k in v:
            out.append(f"| {k} | {v[k]} |")
    out += ["", "## Summary", ""]
    summary_lines = []
    for c in doc["cases"]:
        if c["status"] != "ok":
            summary_lines.append(f"- {c['title']}: {c['status']}: {c['reason']}")
            continue
        for r in c["rows"]:
            if behind(r):
                summary_lines.append("- " + behind_sentence(c, r))
            if r.get("goal_met") is False:
                summary_lines.append(f"- **Goal not met** in {c['title']}, {r['label']}: {r['goal']} "
                                     f"(measured {fmt(r['dfd']['median'])} {r['metric']}).")
    if not summary_lines:
        summary_lines.append("- dfd is ahead of or level with its peer in every measured case.")
    out += summary_lines + [""]
    for c in doc["cases"]:
        out += [f"## {c['title']}", ""]
        if c.get("command"):
            out += [f"`{c['command']}`", ""]
        if c.get("run"):
            r = c["run"]
            out += [f"_Run: {r['date']}, {r['mode']} run, dfd {r['dfd']}; load average at the case's end {r['load']}._", ""]
        if c["status"] != "ok":
            out += [f"**{c['status']}**: {c['reason']}", ""]
            continue
        out += ["| case | metric | dfd | median | spread | peer | median | spread | ratio |",
                "|---|---|---|---|---|---|---|---|---|"]
        for r in c["rows"]:
            d, p = r["dfd"], r["peer"]
            ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}×" + (" (behind)" if behind(r) else "")
            if p:
                pcells = f"{p['name']} | {fmt(p['median'])} | {spread(p)}"
            else:
                pcells = "no peer (absolute figure) | | "
            out.append(f"| {r['label']} | {r['metric']} ({r['better']} is better) | {d['name']} | "
                       f"{fmt(d['median'])} | {spread(d)} | {pcells} | {ratio} |")
        out.append("")
        for r in c["rows"]:
            if r["peer"] and not r["peer"].get("measured", True):
                out.append(f"- {r['label']}: the peer is a recorded figure, not measured in this run "
                           f"({r['peer'].get('source', '')}).")
            if r.get("goal"):
                met = {True: "met", False: "**not met**", None: "see text"}[r.get("goal_met")]
                out.append(f"- {r['label']}: goal {r['goal']}: {met}.")
            if r.get("note"):
                out.append(f"- {r['label']}: {r['note']}")
            if behind(r):
                out.append("- " + behind_sentence(c, r))
            if r.get("self_peer") and r["ratio"] is not None:
                out.append(f"- {r['label']}: {r['dfd']['name']} give {r['ratio']:.2f}× the {r['metric']} "
                           f"of {r['peer']['name']}.")
        for n in c.get("notes", []):
            out.append(f"- {n}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def report(a):
    with open(a.meta) as f:
        doc = json.load(f)
    doc["cases"] = []
    for path in a.casefiles:
        with open(path) as f:
            doc["cases"].append(json.load(f))
    save(a.json, doc)
    with open(a.md, "w") as f:
        f.write(markdown(doc))


def stamp(a):
    with open(a.file) as f:
        data = json.load(f)
    data["run"] = {"date": a.date, "mode": a.mode, "dfd": a.dfd, "load": a.load}
    save(a.file, data)


def extract(a):
    with open(a.old) as f:
        old = json.load(f)
    for c in old.get("cases", []):
        if c["id"] == a.case:
            save(a.out, c)
            return 0
    return 1


def main(argv):
    ap = argparse.ArgumentParser(prog="results.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("stamp")
    p.add_argument("file")
    for k in ("date", "mode", "dfd", "load"):
        p.add_argument("--" + k, required=True)
    p = sub.add_parser("extract")
    p.add_argument("old")
    p.add_argument("--case", required=True)
    p.add_argument("out")
    for name in ("row", "skip", "note"):
        p = sub.add_parser(name)
        p.add_argument("file")
        p.add_argument("--case", required=True)
        p.add_argument("--title", required=True)
        if name == "row":
            p.add_argument("--label", required=True)
            p.add_argument("--metric", required=True)
            p.add_argument("--better", choices=("higher", "lower"), required=True)
            p.add_argument("--dfd-name", required=True)
            p.add_argument("--dfd", required=True)
            p.add_argument("--peer-name")
            p.add_argument("--peer")
            p.add_argument("--peer-recorded", type=float)
            p.add_argument("--peer-source")
            p.add_argument("--goal-min", type=float)
            p.add_argument("--goal-max", type=float)
            p.add_argument("--goal-ratio-min", type=float)
            p.add_argument("--self-peer", action="store_true",
                           help="the peer is another dfd set-up (the ratio is a scaling factor)")
            p.add_argument("--goal-ratio-max", type=float)
            p.add_argument("--goal")
            p.add_argument("--note")
        elif name == "skip":
            p.add_argument("--reason", required=True)
            p.add_argument("--status", default="skipped", choices=("skipped", "failed"))
        else:
            p.add_argument("--note", default="")
            p.add_argument("--command")
    p = sub.add_parser("report")
    p.add_argument("--meta", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--md", required=True)
    p.add_argument("casefiles", nargs="*")
    a = ap.parse_args(argv)
    if a.cmd in ("report", "stamp", "extract"):
        return {"report": report, "stamp": stamp, "extract": extract}[a.cmd](a)
    data = load_case(a.file, a.case, a.title)
    if a.cmd == "row":
        data["rows"].append(make_row(a))
    elif a.cmd == "skip":
        data["status"], data["reason"], data["rows"] = a.status, a.reason, []
    else:
        if a.note:
            data["notes"].append(a.note)
        if a.command:
            data["command"] = a.command
    save(a.file, data)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
