"""index.html for a sweep: a page that navigates the study.

Two or more parameters that vary: a grid, one parameter along the rows and one along the columns (the user
picks both), the others flipped through with a slider each or the arrow keys. One parameter: a strip. Each
cell shows the run's image (the user picks which, when a run writes several); a failed run shows as failed,
with its error line.

Self-contained: inline CSS and JS, relative links, no network, so the folder can be copied or served as it
is. The runs are one compact JSON blob read by the script, so the page stays small for thousands of runs;
images load lazily. Text in, text out: the sweep writes it.
"""
from __future__ import annotations

import html
import json
import os

from .cinema import IMAGES, images

DATA_ID = "replay-data"
LISTED = 100  # runs named in the page's list of those that did not succeed; the rest are in manifest.csv

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.2em;color:#222}
h1{font-size:1.3em;margin:.2em 0} .meta{color:#555;font-size:.9em}
#controls{display:flex;flex-wrap:wrap;gap:.6em 1.6em;align-items:center;margin:.8em 0;padding:.6em;
 background:#f4f4f4;border-radius:6px}
#controls:empty{display:none} #controls label{font-size:.9em} .slider{display:flex;align-items:center;gap:.4em}
.slider.active .name{font-weight:bold;text-decoration:underline} .value{font-family:monospace}
table.view{border-collapse:collapse} .view th{font-family:monospace;font-weight:normal;font-size:.85em;
 padding:.3em;background:#f4f4f4;max-width:18em;word-break:break-all} .view th.axis{font-weight:bold}
.view td{border:1px solid #ccc;padding:.3em;vertical-align:top;text-align:center;width:260px}
.view td.failed{border-color:#c33;background:#fff3f3} .view td.none{color:#999;font-size:.85em}
.view img{max-width:250px;max-height:250px;display:block;margin:0 auto}
.status{font-size:.8em;color:#555} .error{color:#a00;font-size:.8em;text-align:left;word-break:break-word}
.failed-list li{font-size:.85em;margin:.2em 0} code{font-size:.9em}
#pages{display:flex;gap:1.6em;margin:.4em 0;font-size:.9em} #pages:empty{display:none} .pager button{margin:0 .2em}
"""

# Reads the blob, builds the controls, redraws the table on every change. Kept to plain DOM calls.
_JS = r"""
(function(){
"use strict";
var D=JSON.parse(document.getElementById("replay-data").textContent);
var P=D.params, V=D.values, L=D.labels, R=D.runs, IM=D.images;
var axes=[], i;
for(i=0;i<P.length;i++){ if(V[i].length>1) axes.push(i); }
var st={row:axes.length>1?axes[0]:-1, col:axes.length>1?axes[1]:(axes.length?axes[0]:-1),
        at:P.map(function(){return 0;}), image:0, active:-1};
var byKey={};
R.forEach(function(r){ byKey[r[2].join(",")]=r; });
var controls=document.getElementById("controls"), view=document.getElementById("view"),
    pages=document.getElementById("pages"), pg={r:0, c:0};
function el(tag, attrs, text){ var e=document.createElement(tag);
  for(var k in attrs){ e.setAttribute(k, attrs[k]); } if(text!==undefined){ e.textContent=text; } return e; }
function others(){ return axes.filter(function(a){ return a!==st.row && a!==st.col; }); }
function pick(id, label, value, choices, onchange){
  var lab=el("label", {}, label+" "), s=el("select", {id:id});
  choices.forEach(function(c){ var o=el("option", {value:c[0]}, c[1]); if(c[0]===value){o.selected=true;} s.appendChild(o); });
  s.addEventListener("change", function(){ onchange(s.value); });
  lab.appendChild(s); controls.appendChild(lab);
}
function buildControls(){
  controls.textContent="";
  var names=axes.map(function(a){ return [String(a), P[a]]; });
  if(axes.length>1){
    pick("rows", "rows:", String(st.row), names, function(v){ v=+v; if(v===st.col){ st.col=st.row; } st.row=v; update(); });
    pick("cols", "columns:", String(st.col), names, function(v){ v=+v; if(v===st.row){ st.row=st.col; } st.col=v; update(); });
  }
  if(IM.length>1){
    pick("image", "image:", String(st.image), IM.map(function(n, k){ return [String(k), n]; }),
         function(v){ st.image=+v; draw(); });
  }
  var rest=others();
  if(rest.indexOf(st.active)<0){ st.active=rest.length?rest[0]:-1; }
  rest.forEach(function(a){
    var box=el("span", {"class":"slider"+(a===st.active?" active":""), "data-param":P[a]});
    box.appendChild(el("span", {"class":"name"}, P[a]));
    var s=el("input", {type:"range", min:"0", max:String(V[a].length-1), step:"1", value:String(st.at[a]),
                       "aria-label":P[a]});
    var shown=el("span", {"class":"value"}, L[a][st.at[a]]);
    s.addEventListener("input", function(){ st.at[a]=+s.value; shown.textContent=L[a][st.at[a]]; draw(); });
    s.addEventListener("focus", function(){ setActive(a); });
    box.appendChild(s); box.appendChild(shown); controls.appendChild(box);
  });
  if(rest.length){ controls.appendChild(el("span", {"class":"meta"}, "\u2190 \u2192 flip through "+
                   (rest.length>1?"the underlined parameter (click a slider to choose it)":P[rest[0]]))); }
}
function setActive(a){
  st.active=a;
  Array.prototype.forEach.call(controls.querySelectorAll(".slider"), function(b){
    b.className="slider"+(b.getAttribute("data-param")===P[a]?" active":""); });
}
function cell(at){
  var td=el("td"), r=byKey[at.join(",")];
  if(!r){ td.className="none"; td.textContent="no run"; return td; }
  var folder=r[0], status=r[1], imgs=r[3], err=r[4];
  td.className=status==="ok"?"ok":"failed";
  td.setAttribute("data-folder", folder);
  var name=imgs.indexOf(st.image)>=0?IM[st.image]:(imgs.length?IM[imgs[0]]:null);
  if(name!==null){
    var href=encodeURI(folder+"/"+name).replace(/#/g,"%23").replace(/\?/g,"%3F"), a=el("a", {href:href});
    a.appendChild(el("img", {src:href, alt:folder+": "+name, loading:"lazy"}));
    td.appendChild(a);
  }
  td.appendChild(el("div", {"class":"status"}, status==="ok"?"":status));
  var link=el("a", {href:encodeURI(folder+"/").replace(/#/g,"%23").replace(/\?/g,"%3F"), "class":"status"}, folder+"/");
  td.appendChild(link);
  if(err){ td.appendChild(el("div", {"class":"error"}, err)); }
  return td;
}
// Only a screenful of cells is ever in the page (a study of 100,000 runs would be 100,000 cells): the rows and
// columns that fit the window, the others a page away.
function fit(){ return {rows:Math.max(3, Math.ceil(window.innerHeight/290)),
                        cols:Math.max(4, Math.floor((window.innerWidth-160)/272))}; }
function span(axis, size, key){
  var n=axis<0?1:V[axis].length, pages=Math.max(1, Math.ceil(n/size));
  pg[key]=Math.min(Math.max(pg[key], 0), pages-1);
  return {from:pg[key]*size, to:Math.min(n, (pg[key]+1)*size), n:n, pages:pages};
}
function pager(name, axis, s, key){
  if(s.pages<2){ return; }
  var box=el("span", {"class":"pager"});
  box.appendChild(el("span", {}, name+" "+(s.from+1)+"\u2013"+s.to+" of "+s.n+" ("+P[axis]+") "));
  [["\u25c0", -1, "prev"], ["\u25b6", 1, "next"]].forEach(function(b){
    var btn=el("button", {type:"button", id:key+"-"+b[2]}, b[0]);
    if((b[1]<0 && pg[key]===0) || (b[1]>0 && pg[key]===s.pages-1)){ btn.disabled=true; }
    btn.addEventListener("click", function(){ pg[key]+=b[1]; draw(); });
    box.appendChild(btn);
  });
  pages.appendChild(box);
}
function draw(){
  view.textContent=""; pages.textContent="";
  var at=st.at.slice(), table=el("table", {"class":"view"}), f=fit();
  var cs=span(st.col, f.cols, "c"), c;
  if(st.row<0){
    var tr=el("tr");
    if(st.col>=0){
      var head=el("tr"); head.appendChild(el("th", {"class":"axis"}, P[st.col]));
      tr.appendChild(el("th"));
      for(c=cs.from; c<cs.to; c++){ head.appendChild(el("th", {}, L[st.col][c])); at[st.col]=c; tr.appendChild(cell(at)); }
      table.appendChild(head);
      pager("columns", st.col, cs, "c");
    } else { tr.appendChild(cell(at)); }
    table.appendChild(tr); view.appendChild(table); return;
  }
  var rs=span(st.row, f.rows, "r");
  pager("rows", st.row, rs, "r"); pager("columns", st.col, cs, "c");
  var top=el("tr"); top.appendChild(el("th", {"class":"axis"}, P[st.row]+" \u2193  "+P[st.col]+" \u2192"));
  for(c=cs.from; c<cs.to; c++){ top.appendChild(el("th", {}, L[st.col][c])); }
  table.appendChild(top);
  for(var r=rs.from; r<rs.to; r++){
    var row=el("tr"); at[st.row]=r; row.appendChild(el("th", {}, L[st.row][r]));
    for(c=cs.from; c<cs.to; c++){ at[st.col]=c; row.appendChild(cell(at)); }
    table.appendChild(row);
  }
  view.appendChild(table);
}
function update(){ pg.r=0; pg.c=0; buildControls(); draw(); }
var resized=null;
window.addEventListener("resize", function(){ clearTimeout(resized); resized=setTimeout(draw, 100); });
document.addEventListener("keydown", function(ev){
  if(st.active<0 || (ev.key!=="ArrowLeft" && ev.key!=="ArrowRight")){ return; }
  var t=ev.target && ev.target.tagName; if(t==="SELECT" || t==="INPUT"){ return; }
  var a=st.active, n=V[a].length;
  st.at[a]=(st.at[a]+(ev.key==="ArrowRight"?1:n-1))%n;
  ev.preventDefault(); buildControls(); draw();
});
update();
})();
"""


def _labels(values: list[str]) -> list[str]:
    """File values without the folder they all share (as the run folders name them)."""
    values = [v if v != "" else "(recorded)" for v in values]
    if len(values) > 1 and all("/" in v for v in values):
        shared = os.path.commonpath(values) if all(v.startswith("/") for v in values) else ""
        if shared and shared not in values:
            return [v[len(shared):].lstrip("/") for v in values]
    return values


def _order(values: list[str]) -> list[str]:
    """Numbers in numeric order, anything else as the plan gave it (grid order, natural order of globs)."""
    try:
        return sorted(values, key=float)
    except ValueError:
        return values


def data(manifest: dict) -> dict:
    """The blob the page reads: parameter names, their values (and labels), image names, and one compact
    row per run: [folder, status, value index per parameter, image indices, error line]."""
    rows = manifest.get("runs", [])
    params: list[str] = []
    for row in rows:
        params += [n for n in row.get("params", {}) if n not in params]
    values = []
    for name in params:
        seen: dict = {}  # in order of appearance
        for row in rows:
            seen.setdefault(str(row.get("params", {}).get(name, "")), None)
        values.append(_order(list(seen)))
    names: list[str] = []
    for row in rows:
        names += [i for i in images(row) if i not in names]
    # Indices by dict: list.index per run was quadratic (100,000 runs over 1,000 values took minutes).
    where = [{v: i for i, v in enumerate(vals)} for vals in values]
    image_at = {name: i for i, name in enumerate(names)}
    runs = []
    for row in rows:
        given = row.get("params", {})
        at = [where[k][str(given.get(n, ""))] for k, n in enumerate(params)]
        error = (row.get("error") or "").strip().splitlines()
        runs.append([row.get("folder", ""), row.get("status", ""), at, [image_at[i] for i in images(row)],
                     error[-1] if error else ""])
    return {"params": params, "values": values, "labels": [_labels(v) for v in values], "images": names,
            "runs": runs}


def read_data(page: str) -> dict:
    """The blob back from a page (for tests and tools)."""
    opening = f'<script type="application/json" id="{DATA_ID}">'
    start = page.index(opening) + len(opening)
    return json.loads(page[start:page.index("</script>", start)])


def render(manifest: dict) -> str:
    rows = manifest.get("runs", [])
    ok = sum(1 for r in rows if r.get("status") == "ok")
    e = html.escape
    blob = json.dumps(data(manifest), separators=(",", ":"), ensure_ascii=False)
    # Inside <script>, only "</" (and "<!--") could end or confuse the element: escape the "<" for JSON.
    blob = blob.replace("<", "\\u003c")
    failed = [r for r in rows if r.get("status") != "ok"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # No network: the page may load only what is beside it, and run only its own inline script.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'self\'; img-src \'self\' data:; '
        'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">',
        f"<title>replay sweep: {e(manifest.get('script_name', ''))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Sweep of {e(manifest.get('script_name', ''))}</h1>",
        f'<p class="meta">{ok} of {len(rows)} runs succeeded. Each cell is one run; click it for the image or '
        'its folder. <a href="manifest.csv">manifest.csv</a> · <a href="manifest.json">manifest.json</a> · '
        '<a href="data.csv">data.csv</a> (Cinema database)</p>',
        '<div id="controls"></div><div id="pages"></div><div id="view"></div>',
        "<noscript><p>The gallery needs JavaScript; the runs are listed in manifest.csv.</p></noscript>",
    ]
    if failed:
        parts.append(f"<h2>{len(failed)} not succeeded</h2><ul class=\"failed-list\">")
        for row in failed[:LISTED]:
            label = ", ".join(f"{k}={v}" for k, v in row.get("params", {}).items()) or "recorded values"
            parts.append(f"<li><code>{e(label)}</code>: {e(row.get('status', ''))}"
                         f"{': ' + e(row['error']) if row.get('error') else ''}</li>")
        if len(failed) > LISTED:
            parts.append(f"<li>and {len(failed) - LISTED} more: see <a href=\"manifest.csv\">manifest.csv</a></li>")
        parts.append("</ul>")
    parts += [f'<script type="application/json" id="{DATA_ID}">{blob}</script>',
              f"<script>{_JS}</script>", "</body></html>", ""]
    return "\n".join(parts)


__all__ = ["IMAGES", "render", "data", "read_data"]
