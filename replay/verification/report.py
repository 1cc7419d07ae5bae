"""`replay verify ... --report DIR`: one static HTML page for many recordings (many.py's result).

    DIR/index.html                              the page: a count, then each recording, failures first
    DIR/images/<n>-<stem>/recording/<name>      the recording's image
    DIR/images/<n>-<stem>/replay/<name>         the replay's image
    DIR/images/<n>-<stem>/diff/<name>.diff.png  the difference (the recording in grey, differing pixels in red)

Inline CSS, no script, nothing from the network: relative links only, so the folder can be copied anywhere.
A new report replaces the images and the page of an older one in DIR; the page is written last, atomically.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import tempfile

from .verify import output_files

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# A recording's outcome (many.py), in the page's order: what needs a look first.
STATUSES = ("failed", "no data", "differs", "same")


def _folder_name(index: int, recording: str) -> str:
    stem = os.path.splitext(os.path.basename(recording))[0]
    return f"{index}-{_SAFE.sub('_', stem).strip('_.-') or 'recording'}"


def collect_images(result, staging: str, index: int) -> dict:
    """Copy the images of one verified recording (both sides, and the difference) under staging; return
    output name -> {"recording", "replay", "diff"}: paths relative to the report folder (None: not written)."""
    folder = _folder_name(index, result.recording)
    sides = {"recording": output_files(result.recording_side.output_dir),
             "replay": output_files(result.replay_side.output_dir)}
    found = {}
    for comparison in result.comparisons:
        if comparison.kind != "image":
            continue
        shown = {}
        sources = {side: files.get(comparison.name) for side, files in sides.items()}
        sources["diff"] = comparison.measures.get("diff_image")
        for side, source in sources.items():
            if not source or not os.path.isfile(source):
                shown[side] = None
                continue
            name = comparison.name + (".diff.png" if side == "diff" else "")
            target = os.path.join(staging, folder, side, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)
            shown[side] = "/".join(("images", folder, side, name))
        found[comparison.name] = shown
    return found


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .3em}
.summary{font-size:1.1em;margin:.2em 0}
.runs{color:#555;margin:.2em 0 1em}
nav ol{columns:3;padding-left:1.5em}
section{background:#fff;border:1px solid #ddd;border-left:6px solid #999;margin:1em 0;padding:.6em 1em}
section.failed{border-left-color:#b00}section.no-data{border-left-color:#c80}
section.differs{border-left-color:#d60}section.same{border-left-color:#2a2}
h2{font-size:1.1em;margin:.2em 0}
.status{display:inline-block;min-width:5.5em;padding:0 .4em;margin-right:.5em;border-radius:3px;color:#fff;
  text-align:center;font-size:.9em}
.failed .status{background:#b00}.no-data .status{background:#c80}.differs .status{background:#d60}
.same .status{background:#2a2}
.message{font-family:monospace;white-space:pre-wrap;color:#700}
table{border-collapse:collapse;margin:.4em 0}
td,th{border:1px solid #ddd;padding:.15em .5em;text-align:left;vertical-align:top}
td.same{color:#2a2}td.differs{color:#d60}
.trio{display:flex;gap:1em;flex-wrap:wrap;margin:.3em 0 .8em}
figure{margin:0}figure img{max-width:420px;border:1px solid #ccc;display:block;background:#eee}
figcaption{color:#555;font-size:.9em}
.missing{width:200px;height:120px;border:1px dashed #bbb;display:flex;align-items:center;justify-content:center;
  color:#999}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _figure(src: str | None, caption: str, output: str) -> str:
    if src is None:
        return f'<figure><div class="missing">not written</div><figcaption>{_e(caption)}</figcaption></figure>'
    return (f'<figure><a href="{_e(src)}"><img src="{_e(src)}" alt="{_e(caption)}: {_e(output)}" '
            f'loading="lazy"></a><figcaption>{_e(caption)}</figcaption></figure>')


def _section(anchor: str, outcome) -> str:
    css = outcome.status.replace(" ", "-")
    parts = [f'<section class="{css}" id="{anchor}" data-status="{_e(outcome.status)}" '
             f'data-recording="{_e(outcome.recording)}">',
             f'<h2><span class="status">{_e(outcome.status)}</span>{_e(outcome.recording)}</h2>']
    if outcome.message:
        parts.append(f'<p class="message">{_e(outcome.message)}</p>')
    rows = [(c.name, "same" if c.same else "differs", c.detail) for c in (outcome.result.comparisons
                                                                           if outcome.result else [])]
    if rows:
        parts.append("<table><tr><th>output</th><th>result</th><th>difference</th></tr>")
        parts += [f'<tr><td>{_e(n)}</td><td class="{r}">{r}</td><td>{_e(d)}</td></tr>' for n, r, d in rows]
        parts.append("</table>")
    for name, shown in outcome.images.items():
        parts.append(f'<div class="images" data-output="{_e(name)}"><h3>{_e(name)}</h3><div class="trio">')
        parts += [_figure(shown.get("recording"), "recording", name), _figure(shown.get("replay"), "replay", name),
                  _figure(shown.get("diff"), "difference", name)]
        parts.append("</div></div>")
    parts.append("</section>")
    return "\n".join(parts)


def render(result) -> str:
    order = sorted(range(len(result.outcomes)), key=lambda k: (STATUSES.index(result.outcomes[k].status), k))
    where = ""
    if result.recorded_with:
        where = (f'<p class="runs">recordings run on {_e(result.recorded_with)}, replays on '
                 f'{_e(result.pvbatch or "pvbatch")}: the upgrade report</p>')
    elif result.pvbatch:
        where = f'<p class="runs">run on {_e(result.pvbatch)}</p>'
    listing = "".join(f'<li><a href="#r{k + 1}">{_e(result.outcomes[k].status)}: '
                      f'{_e(result.outcomes[k].recording)}</a></li>' for k in order)
    sections = "\n".join(_section(f"r{k + 1}", result.outcomes[k]) for k in order)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>replay verify: {_e(result.summary())}</title><style>{_CSS}</style></head><body>\n'
            f'<h1>replay verify</h1>\n<p class="summary">{_e(result.summary())}</p>\n{where}\n'
            f'<nav><ol>{listing}</ol></nav>\n{sections}\n</body></html>\n')


def write_report(result, folder: str, staging: str) -> str:
    """Replace DIR/images by the staged images, then write DIR/index.html atomically; return the page."""
    images = os.path.join(folder, "images")
    shutil.rmtree(images, ignore_errors=True)
    os.replace(staging, images)
    page = os.path.join(folder, "index.html")
    handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(render(result))
        os.chmod(temporary, 0o644)
        os.replace(temporary, page)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return page
