"""`replay verify` over many recordings (issue 22): real pvbatch runs of an archive in a folder, -j 2, the rows,
the count and the exit code, the HTML report in headless Chromium, and the upgrade report across two releases.

The archive holds what a team's git holds: a trace, a trace that saves nothing (its pictures are what gets
compared), a state with a layout of two views, a trace whose data is elsewhere, a Python 2 trace, and files
the glob must skip (a generated replay script, a helper that is no recording).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import replay
from pv import STATES, TRACES, run_replay
from test_pictures import without_saves

pytestmark = pytest.mark.pvbatch

WIDE = {"COLUMNS": "250"}


def verify_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "replay", "verify", *map(str, args)], cwd=cwd,
                          env=dict(os.environ, **WIDE), capture_output=True, text=True, timeout=900)


def rows(stdout: str) -> list:
    """(recording, output, result, difference) per table row; a cell folded over lines is joined."""
    found = []
    for line in stdout.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line)[1:-1]]
        if len(cells) != 4 or cells[0] == "recording":
            continue
        if cells[2]:
            found.append(cells)
        elif found:
            found[-1] = [a + (" " if a and b else "") + b for a, b in zip(found[-1], cells)]
    return [tuple(r) for r in found]


def archive(folder: Path) -> Path:
    folder.mkdir()
    contour = (TRACES / "contour.py").read_text()
    (folder / "contour.py").write_text(contour)
    (folder / "no_shot.py").write_text(without_saves(contour))
    (folder / "elsewhere.py").write_text(contour.replace("/tmp/replay-fixtures/data/wave.vti", "/nowhere/wave.vti"))
    shutil.copy(TRACES / "python2.py", folder / "python2.py")
    shutil.copy(STATES / "two_views.pvsm", folder / "two_views.pvsm")
    (folder / "helper.py").write_text("print('not a recording')\n")
    assert run_replay("convert", folder / "contour.py", "-q").returncode == 0  # contour_replay.py: skipped
    return folder


@pytest.fixture(scope="module")
def verified(fixture_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("many")
    folder = archive(root / "recordings")
    proc = verify_cli("recordings/*.py", "recordings/two_views.pvsm", "-j", "2", "--report", "report", cwd=root)
    return root, proc


def test_one_row_per_recording_and_output_then_a_count(verified):
    root, proc = verified
    table = rows(proc.stdout)
    by = {}
    for recording, output, result, detail in table:
        by.setdefault(recording, []).append((output, result, detail))
    # The glob skipped the generated script and the helper; the state named beside it came in.
    assert sorted(by) == ["recordings/contour.py", "recordings/elsewhere.py", "recordings/no_shot.py",
                          "recordings/python2.py", "recordings/two_views.pvsm"], proc.stdout + proc.stderr
    assert by["recordings/contour.py"] == [("contour.png", "same", "identical pixels (320x240)")]
    assert by["recordings/no_shot.py"] == [("RenderView1.png", "same", "identical pixels (400x400)")]
    assert [(o, r) for o, r, _ in by["recordings/two_views.pvsm"]] == [
        ("Layout_1.png", "same"), ("RenderView1.png", "same"), ("RenderView2.png", "same")]
    ((_, result, detail),) = by["recordings/elsewhere.py"]
    assert result == "no data" and detail.startswith("recordings/elsewhere.py:12:1: the recording reads data that is "
                                                     "not here: /nowhere/wave.vti")
    ((_, result, detail),) = by["recordings/python2.py"]
    assert result == "failed" and detail.startswith("recordings/python2.py:") and "Python 2" in detail
    assert proc.stdout.rstrip().splitlines()[-1] == \
        "5 recordings: 3 same, 0 differ, 1 failed, 1 without their data here (tolerance 0)"
    assert proc.returncode == 1  # one failed


def test_exit_code_2_when_only_data_is_missing_and_0_when_all_match(tmp_path, fixture_data):
    folder = tmp_path / "away"
    folder.mkdir()
    text = (TRACES / "contour.py").read_text().replace("/tmp/replay-fixtures/data/", "/nowhere/")
    (folder / "contour.py").write_text(text)
    proc = verify_cli(folder, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("1 recording: 0 same, 0 differ, 0 failed, 1 without their data here "
                                         "(tolerance 0)")
    proc = verify_cli("nothing/*.py", cwd=tmp_path)  # a quoted glob: no shell expands it
    assert proc.returncode == 2 and proc.stderr.strip() == "replay: nothing/*.py: no file matches", proc.stderr


def test_the_report_shows_every_image_failures_first(verified, browser):  # noqa: F811
    root, _ = verified
    page = root / "report" / "index.html"
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and "<script" not in text
    browser.get(page.as_uri())
    browser.get_log("browser")
    browser.get(page.as_uri())
    sections = browser.execute_script(
        "return Array.from(document.querySelectorAll('section')).map(function(s){"
        " return [s.getAttribute('data-status'), s.getAttribute('data-recording'),"
        " s.querySelectorAll('.trio').length]; })")
    assert [s[0] for s in sections] == ["failed", "no data", "same", "same", "same"], sections
    assert sections[0][1] == "recordings/python2.py" and sections[1][1] == "recordings/elsewhere.py"
    assert {s[1]: s[2] for s in sections[2:]} == {"recordings/contour.py": 1, "recordings/no_shot.py": 1,
                                                  "recordings/two_views.pvsm": 3}
    # Each image output: recording, replay and difference, side by side, each one loaded.
    trios = browser.execute_script(
        "return Array.from(document.querySelectorAll('.trio')).map(function(t){"
        " var figures = t.querySelectorAll('figure'); var imgs = t.querySelectorAll('img');"
        " var tops = Array.from(figures).map(function(f){ return f.getBoundingClientRect().top; });"
        " return [figures.length, imgs.length, Math.max.apply(null, tops) - Math.min.apply(null, tops)]; })")
    assert trios and all(t[0] == 3 and t[1] == 3 and t[2] == 0 for t in trios), trios
    from selenium.webdriver.support.ui import WebDriverWait

    for image in browser.find_elements("css selector", "img"):
        browser.execute_script("arguments[0].scrollIntoView()", image)
        WebDriverWait(browser, 20).until(lambda d: d.execute_script("return arguments[0].complete", image))
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0, image.get_attribute("src")
    assert len(browser.find_elements("css selector", "img")) == 15
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []
    browser.save_screenshot(str(root / "report.png"))


def test_upgrade_report_across_two_releases(fixture_data, tmp_path):
    """Recorded with 5.11, replayed on 6.1: the versions differ by a level on a few pixels, within 1%."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    contour = (TRACES / "contour.py").read_text()
    (folder / "contour.py").write_text(contour)
    (folder / "no_shot.py").write_text(without_saves(contour))
    result = replay.verify_many([str(folder)], jobs=2, recorded_with="5.11", pvbatch="6.1", tolerance=0.01,
                                report=str(tmp_path / "upgrade"))
    assert result.recorded_with == shutil.which("pvbatch") and result.pvbatch.endswith("pvbatch-6.1")
    assert [(Path(o.recording).name, o.status) for o in result.outcomes] == [("contour.py", "same"),
                                                                             ("no_shot.py", "same")]
    assert [c.name for o in result.outcomes for c in o.comparisons] == ["contour.png", "RenderView1.png"]
    assert result.exit_code == 0 and result.ok
    page = (tmp_path / "upgrade" / "index.html").read_text()
    assert "the upgrade report" in page and "pvbatch-6.1" in page
    assert len(list((tmp_path / "upgrade" / "images").rglob("*.png"))) == 6
