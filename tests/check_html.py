#!/usr/bin/env python3
"""Render summary.html in a real browser (Debian's chromium, headless) and check it:

1. the example's report renders to a PNG, and its DOM after loading has every chart (the
   SVGs by id, the themes-over-time line chart and small multiples and the by-source bars
   among them), one dot per placed passage, one trend point per theme and dated bucket
   (thin ones hollow), and no <script> element;
2. the report of tests/fixtures/hostile (passages, a theme name and a seed word holding
   <script>, <img onerror> and <em>) has no element of theirs and no script ran: the title
   and the root element are as rendered, and the hostile text shows as text;
3. the harness can see a script run: a control page whose script changes the title and
   the root element does show those changes (so check 2 cannot pass vacuously).

    python tests/check_html.py path/to/themata [--update-png]
--update-png also renders the committed reports/khamenei/summary.html to
reports/khamenei/summary.png (the picture in the README).
Prints one line per check and `N passed, N failed` at the end; exits 1 on any failure.
"""
import html.parser
import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Tally  # noqa: E402
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WIDTH = 1280


class Dom(html.parser.HTMLParser):
    """Elements (tag, attributes, enclosing ids) and the text of a page."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.stack, self.text, self.title = [], [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        ids = [a.get("id") for _, a in self.stack if a.get("id")]
        self.elements.append((tag, attrs, ids))
        if tag not in ("meta", "br", "hr", "img", "input", "link", "rect", "line", "circle"):
            self.stack.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        attrs = dict(attrs)
        ids = [a.get("id") for _, a in self.stack if a.get("id")]
        self.elements.append((tag, attrs, ids))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] == "title" and len(self.stack) == 3:
            self.title = data
        self.text.append(data)

    def tags(self, tag):
        return [e for e in self.elements if e[0] == tag]

    def inside(self, tag, element_id):
        return [e for e in self.elements if e[0] == tag and element_id in e[2]]


def chromium(tmp, *args):
    profile = tempfile.mkdtemp(dir=tmp, prefix="profile-")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--no-first-run", "--disable-component-update",
           "--disable-sync", "--disable-quic", "--hide-scrollbars", f"--user-data-dir={profile}",
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def dump_dom(tmp, path):
    r = chromium(tmp, "--dump-dom", "file://" + os.path.abspath(path))
    return Dom(r.stdout), r


def screenshot(tmp, path, png, height):
    r = chromium(tmp, f"--window-size={WIDTH},{height}", f"--screenshot={png}",
                 "file://" + os.path.abspath(path))
    return r


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def run_pipeline(exe, pipeline, tmp, name):
    report = os.path.join(tmp, name, "report")
    subprocess.run([exe, "run", pipeline, "--quiet", "--output", os.path.join(tmp, name, "out"),
                    "--set", f"report.dir={report}"], cwd=ROOT, check=True)
    return report


def main():
    exe = os.path.abspath(sys.argv[1])
    update_png = "--update-png" in sys.argv[2:]
    if not os.access(CHROMIUM, os.X_OK):
        sys.exit(f"check_html: no browser at {CHROMIUM}: install Debian's chromium "
                 "(apt-get install chromium) or set CHROMIUM")
    check = Tally()

    with tempfile.TemporaryDirectory() as tmp:
        # 1. the example
        report = run_pipeline(exe, "pipelines/khamenei.toml", tmp, "example")
        page = os.path.join(report, "summary.html")
        summary = json.load(open(os.path.join(report, "summary.json"), encoding="utf-8"))
        dom, r = dump_dom(tmp, page)
        check("example: chromium loads summary.html", r.returncode == 0 and dom.elements,
              r.stderr[-2000:])
        svgs = [a.get("id") for _, a, _ in dom.tags("svg")]
        views = {v["view"]: v for v in summary["trends"]}
        trends = []
        if "over" in views:
            trends += ["theme-trends-over"] + [
                f"theme-trends-over-{i}" for i in range(len(summary["themes"]))]
        if "by" in views:
            trends += ["theme-trends-by"]
        check("example: the example shows themes over time and by group",
              sorted(views) == ["by", "over"], sorted(views))
        want = (["theme-sizes"] + (["theme-dendrogram"] if summary["hierarchy"] else [])
                + ["theme-mix"] + trends
                + [f"top-terms-{i}" for i in range(len(summary["themes"]))]
                + [f"keyness-{i}" for i in range(len((summary["keyness"] or {}).get("groups", [])))]
                + ["passage-map"]
                + [f"close-call-{i}-{role}" for i in range(len(summary["close_calls"]))
                   for role in ("nearest", "runner-up")])
        check("example: every chart is in the DOM", svgs == want, f"{svgs} != {want}")
        k = summary["keyness"]
        check("example: the report compares documents' key terms",
              k is not None and k["by"] == "document" and len(k["groups"]) >= 2, k)
        for i, g in enumerate((k or {}).get("groups", [])):
            bars = dom.inside("rect", f"keyness-{i}")
            rows = [r for r in k["rows"] if r["group"] == g["group"]]
            check(f"example: keyness {i}: one bar per key term", len(bars) == len(rows) > 0,
                  len(bars))
        check("example: the report has close calls", len(summary["close_calls"]) > 0,
              summary["close_calls"])
        for i, c in enumerate(summary["close_calls"]):
            for key, role in (("nearest", "nearest"), ("runner_up", "runner-up")):
                bars = dom.inside("rect", f"close-call-{i}-{role}")
                check(f"example: close call {i}: one bar per {key} term",
                      len(bars) == len(c[key]["terms"]) > 0, len(bars))
        why = [e for e in dom.tags("span") if e[1].get("class") == "why"]
        explained = sum(1 for t in summary["themes"] for r in t["representatives"] if r["terms"])
        check("example: every representative passage says why", len(why) == explained > 0,
              f"{len(why)} != {explained}")
        dots = dom.inside("circle", "passage-map")
        check("example: one dot per placed passage",
              len(dots) == len(summary["map"]["points"]) > 0,
              f"{len(dots)} dots, {len(summary['map']['points'])} points")
        joins = dom.inside("path", "theme-dendrogram")
        leaves = dom.inside("rect", "theme-dendrogram")
        check("example: the dendrogram joins every theme",
              len(summary["hierarchy"]) == len(summary["themes"]) - 1 > 0
              and len(joins) == len(summary["hierarchy"]) and len(leaves) == len(summary["themes"]),
              f"{len(joins)} joins, {len(leaves)} leaves, {len(summary['themes'])} themes")
        if "over" in views:
            # one point per theme and dated bucket; thin buckets' points hollow
            dated = [b for b in views["over"]["buckets"] if b["start"] is not None]
            points = dom.inside("circle", "theme-trends-over")
            check("example: one trend point per theme and dated bucket",
                  len(points) == len(dated) * len(summary["themes"]) > 0,
                  f"{len(points)} points, {len(dated)} dated buckets")
            hollow = [e for e in points if e[1].get("class") == "thin"]
            thin = sum(len(summary["themes"]) for b in dated if b["thin"])
            check("example: thin buckets are drawn hollow", len(hollow) == thin,
                  f"{len(hollow)} hollow, {thin} thin")
            for i in range(len(summary["themes"])):
                cols = dom.inside("rect", f"theme-trends-over-{i}")
                check(f"example: small multiple {i} has one column per bucket",
                      len(cols) == len(views["over"]["buckets"]), len(cols))
        bars = dom.inside("rect", "theme-sizes")
        check("example: one bar per theme and unassigned",
              len(bars) == len(summary["themes"]) + 1, len(bars))
        check("example: no <script> element", not dom.tags("script"), dom.tags("script"))
        check("example: title", dom.title == f"themata report: {summary['pipeline']}", dom.title)
        png = os.path.join(tmp, "summary.png")
        r = screenshot(tmp, page, png, 4800)
        size = png_size(png) if os.path.exists(png) else None
        check("example: renders to a PNG", size is not None and size[0] == WIDTH
              and os.path.getsize(png) > 50_000, f"{size}, {r.stderr[-2000:]}")

        # 2. hostile text
        report = run_pipeline(exe, "tests/fixtures/hostile/pipeline.toml", tmp, "hostile")
        dom, r = dump_dom(tmp, os.path.join(report, "summary.html"))
        check("hostile: chromium loads summary.html", r.returncode == 0 and dom.elements,
              r.stderr[-2000:])
        root = dom.tags("html")[0][1] if dom.tags("html") else {}
        check("hostile: no script ran (title unchanged)", dom.title == "themata report: hostile",
              dom.title)
        check("hostile: no script ran (root element unchanged)", "data-pwned" not in root, root)
        for tag in ("script", "img", "em"):
            check(f"hostile: no <{tag}> element", not dom.tags(tag), dom.tags(tag))
        text = "".join(dom.text)
        for raw in ('<script>document.title = "pwned";', "<img src=\"x\" onerror=",
                    "<em>cats</em>", "<img src=x onerror=alert(1)>"):
            check(f"hostile: {raw[:24]!r} shows as text", raw in text)

        # 3. the control: a script that does run is seen
        control = os.path.join(tmp, "control.html")
        with open(control, "w", encoding="utf-8") as f:
            f.write('<!DOCTYPE html><html><head><title>control</title></head><body>'
                    '<script>document.title = "pwned"; '
                    'document.documentElement.setAttribute("data-pwned", "script")</script>'
                    '</body></html>')
        dom, r = dump_dom(tmp, control)
        root = dom.tags("html")[0][1] if dom.tags("html") else {}
        check("control: a script that runs is detected",
              dom.title == "pwned" and root.get("data-pwned") == "script", f"{dom.title} {root}")

        if update_png:
            committed = os.path.join(ROOT, "reports", "khamenei", "summary.html")
            target = os.path.join(ROOT, "reports", "khamenei", "summary.png")
            out = os.path.join(tmp, "committed.png")
            r = screenshot(tmp, committed, out, 4800)
            if png_size(out):
                shutil.copyfile(out, target)
                print(f"wrote {os.path.relpath(target, ROOT)}")
            else:
                check("--update-png: screenshot", False, r.stderr[-2000:])

    check.finish()


if __name__ == "__main__":
    main()
