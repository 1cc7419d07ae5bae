"""index.html for a sweep: every run's images in a grid, labelled by its parameter values.

Self-contained: relative links, inline CSS, no scripts or external resources, so the folder can be copied or
served as it is. Text in, text out: the sweep writes it.
"""
from __future__ import annotations

import html
from urllib.parse import quote

IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp")

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} .meta{color:#555;font-size:.9em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:1em}
.run{border:1px solid #ccc;border-radius:6px;padding:.6em;background:#fafafa}
.run.failed{border-color:#c33;background:#fff3f3} .run img{max-width:100%;display:block;margin:.3em 0}
.label{font-family:monospace;font-size:.85em;word-break:break-all} .error{color:#a00;font-size:.85em}
.files{font-size:.8em;color:#444}
"""


def _href(folder: str, name: str) -> str:
    return quote(f"{folder}/{name}")


def render(manifest: dict) -> str:
    rows = manifest.get("runs", [])
    ok = sum(1 for r in rows if r.get("status") == "ok")
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>replay sweep: {e(manifest.get('script_name', ''))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Sweep of {e(manifest.get('script_name', ''))}</h1>",
        f'<p class="meta">{ok} of {len(rows)} runs succeeded. Each card is one run; its folder holds its '
        'outputs. <a href="manifest.csv">manifest.csv</a> · <a href="manifest.json">manifest.json</a></p>',
        '<div class="grid">',
    ]
    for row in rows:
        status = row.get("status", "")
        folder = row.get("folder", "")
        label = ", ".join(f"{k}={v}" for k, v in row.get("params", {}).items()) or "recorded values"
        parts.append(f'<div class="run {e(status)}">')
        parts.append(f'<div class="label">{e(label)}</div>')
        images = [o for o in row.get("outputs", []) if o.lower().endswith(IMAGES)]
        others = [o for o in row.get("outputs", []) if o not in images]
        for image in images:
            parts.append(f'<a href="{_href(folder, image)}"><img src="{_href(folder, image)}" '
                         f'alt="{e(label)}: {e(image)}" loading="lazy"></a>')
        seconds = row.get("seconds")
        took = f" in {seconds:.1f} s" if isinstance(seconds, (int, float)) else ""
        parts.append(f'<div class="meta">{e(status)}{took} · <a href="{quote(folder)}/">{e(folder)}/</a></div>')
        if others:
            links = " ".join(f'<a href="{_href(folder, o)}">{e(o)}</a>' for o in others)
            parts.append(f'<div class="files">{links}</div>')
        if row.get("error"):
            parts.append(f'<div class="error">{e(row["error"])}</div>')
        parts.append("</div>")
    parts += ["</div>", "</body></html>", ""]
    return "\n".join(parts)
