"""The sweep gallery (index.html) in a real browser: Debian's chromium, driven headless by chromedriver.

The page is pure HTML generation from the manifest, so it is built here by the sweep's own writer
(replay.batch.study.write_records) from a manifest of runs whose images are real PNGs written with Pillow, each of
its own colour; the sweep tests build it from real pvbatch runs.
"""
from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest
from PIL import Image

from replay.batch.gallery import read_data, render
from replay.batch.study import write_records

HEADER = {"replay_sweep": 1, "script": "/x/contour_replay.py", "script_name": "contour_replay.py",
          "script_sha256": "0"}


def _study(out: Path, axes: dict, *, fail=None, images=("contour.png",)) -> list[dict]:
    """Write one folder per combination of axes, each with real PNGs; the run `fail` failed, no image."""
    rows = []
    names = list(axes)
    for k, values in enumerate(product(*axes.values())):
        params = dict(zip(names, values))
        folder = ",".join(f"{n}={Path(v).name}" for n, v in params.items())
        failed = fail is not None and params == fail
        (out / folder).mkdir(parents=True)
        outputs = []
        if not failed:
            for j, image in enumerate(images):
                Image.new("RGB", (64, 48), (k * 17 % 256, j * 90, 200)).save(out / folder / image)
                outputs.append(image)
        rows.append({"folder": folder, "params": params, "status": "failed" if failed else "ok",
                     "returncode": 1 if failed else 0, "seconds": 0.5, "outputs": outputs,
                     "error": "pvbatch exited with 1: ValueError: bad isovalue" if failed else None, "key": str(k)})
    write_records(out, HEADER, rows)
    return rows


def _open(driver, page: Path):
    driver.get(page.as_uri())
    driver.get_log("browser")  # start each page with an empty console record
    driver.get(page.as_uri())


def _shown(driver) -> list[str]:
    """Folders of the cells on screen, after every image in them has finished loading."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "return Array.from(document.images).every(function(i){ return i.complete; })"))
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#view td[data-folder]')).map(function(td){"
        " return td.getAttribute('data-folder'); })")


def _images(driver) -> list[dict]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#view img')).map(function(i){"
        " return {src: i.getAttribute('src'), width: i.naturalWidth, lazy: i.loading}; })")


def _errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery") / "study"
    axes = {"Isosurfaces": ["100", "150", "200"], "FileName": ["/d/wave.vti", "/d/wave_big.vti"],
            "time": ["0.0", "1.0"]}
    rows = _study(out, axes, fail={"Isosurfaces": "150", "FileName": "/d/wave_big.vti", "time": "0.0"},
                  images=("contour.png", "slice.png"))
    return out, rows


def test_grid_navigates_the_study(browser, grid, tmp_path):
    out, rows = grid
    _open(browser, out / "index.html")
    first = _shown(browser)
    # Rows Isosurfaces (3) x columns FileName (2), at time 0.0: six cells, one of them the failed run.
    assert sorted(first) == sorted(r["folder"] for r in rows if r["params"]["time"] == "0.0")
    images = _images(browser)
    assert len(images) == 5  # the failed run has no image
    assert all(i["width"] > 0 for i in images), images
    assert all(i["lazy"] == "lazy" for i in images)
    failed = browser.execute_script("var td=document.querySelector('#view td.failed');"
                                    "return td && [td.getAttribute('data-folder'), td.textContent];")
    assert failed[0] == "Isosurfaces=150,FileName=wave_big.vti,time=0.0"
    assert "failed" in failed[1] and "ValueError: bad isovalue" in failed[1]
    browser.save_screenshot(str(tmp_path / "gallery.png"))
    assert (tmp_path / "gallery.png").stat().st_size > 0

    # Swap the axes: time along the columns, so FileName is flipped through instead.
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "cols")).select_by_visible_text("time")
    swapped = _shown(browser)
    assert sorted(swapped) == sorted(r["folder"] for r in rows if r["params"]["FileName"] == "/d/wave.vti")
    assert set(swapped) != set(first)
    assert all(i["width"] > 0 for i in _images(browser))
    # The arrow key steps the parameter that is not on an axis.
    browser.find_element("tag name", "body").send_keys(Keys.ARROW_RIGHT)
    flipped = _shown(browser)
    assert sorted(flipped) == sorted(r["folder"] for r in rows if r["params"]["FileName"] == "/d/wave_big.vti")
    # Rows and columns picked as the same parameter swap instead of collapsing the grid.
    Select(browser.find_element("id", "rows")).select_by_visible_text("time")
    assert browser.find_element("id", "cols").get_attribute("value") != browser.find_element("id", "rows") \
        .get_attribute("value")
    assert len(_shown(browser)) == 6
    # Another image of each run.
    Select(browser.find_element("id", "image")).select_by_visible_text("slice.png")
    _shown(browser)
    assert {i["src"].rsplit("/", 1)[1] for i in _images(browser)} == {"slice.png"}
    assert all(i["width"] > 0 for i in _images(browser))
    browser.save_screenshot(str(tmp_path / "gallery-swapped.png"))
    assert _errors(browser) == []


def test_one_parameter_is_a_strip(browser, tmp_path):
    out = tmp_path / "strip"
    rows = _study(out, {"Isosurfaces": ["90", "100", "1000"]}, fail={"Isosurfaces": "1000"})
    _open(browser, out / "index.html")
    shown = _shown(browser)
    # Numbers in numeric order, one row.
    assert shown == [r["folder"] for r in rows]
    assert browser.execute_script("return document.querySelectorAll('#view tr').length") == 2  # labels, cells
    assert browser.execute_script("return document.querySelectorAll('#controls select').length") == 0
    assert all(i["width"] > 0 for i in _images(browser)) and len(_images(browser)) == 2
    assert "ValueError: bad isovalue" in browser.find_element("css selector", "#view td.failed").text
    browser.save_screenshot(str(tmp_path / "strip.png"))
    assert _errors(browser) == []


def test_a_missing_image_shows_in_the_console(browser, tmp_path):
    """The console check above can fail: a broken image is an error the browser reports."""
    out = tmp_path / "broken"
    rows = _study(out, {"Isosurfaces": ["1", "2"]})
    (out / rows[0]["folder"] / "contour.png").unlink()
    _open(browser, out / "index.html")
    images = _images(browser) if _shown(browser) else []
    assert sorted(i["width"] for i in images) == [0, 64]
    assert _errors(browser), "a missing image should be reported in the console"


def test_page_is_small_and_self_contained_for_1000_runs():
    rows = [{"folder": f"A={a},B={b},C={c}", "params": {"A": str(a), "B": f"/data/run_{b:03d}.vti", "C": str(c)},
             "status": "ok", "returncode": 0, "seconds": 1.0, "outputs": ["contour.png"], "error": None,
             "key": str(a)} for a, b, c in product(range(10), range(20), range(5))]
    page = render({**HEADER, "runs": rows})
    assert len(rows) == 1000
    assert len(page.encode()) < 120_000, len(page.encode())
    assert "http://" not in page and "https://" not in page and "<img" not in page  # the script makes them
    data = read_data(page)
    assert data["params"] == ["A", "B", "C"] and len(data["runs"]) == 1000
    # File values are shown without the folder they share.
    assert data["labels"][1][0] == "run_000.vti"


def test_script_text_in_values_cannot_end_the_data_block():
    rows = [{"folder": "X=a", "params": {"X": "</script><script>alert(1)</script>"}, "status": "failed",
             "outputs": [], "error": "<b>boom</b>"}]
    page = render({**HEADER, "runs": rows})
    assert page.count("</script>") == 2 and "<b>boom</b>" not in page
    assert read_data(page)["values"] == [["</script><script>alert(1)</script>"]]


def test_a_big_study_is_paged_to_what_fits_the_window(browser, tmp_path):
    """20,000 runs on two axes (200 x 100): the page holds only the rows and columns that fit the window, with
    buttons to the next and previous ones; the list of runs that did not succeed names the first 100."""
    out = tmp_path / "big"
    out.mkdir()
    rows = [{"folder": f"A={a},B={b}", "params": {"A": str(a), "B": str(b)}, "status": "failed" if a < 2 else "ok",
             "returncode": 0, "seconds": 1.0, "outputs": [], "error": "boom" if a < 2 else None, "key": f"{a},{b}"}
            for a in range(200) for b in range(100)]
    write_records(out, HEADER, rows)
    _open(browser, out / "index.html")
    fits = browser.execute_script("return [Math.max(3, Math.ceil(window.innerHeight/290)),"
                                  " Math.max(4, Math.floor((window.innerWidth-160)/272))]")
    shown = _shown(browser)
    assert len(shown) == fits[0] * fits[1] < 100, (len(shown), fits)
    assert shown[:2] == ["A=0,B=0", "A=0,B=1"]
    assert browser.execute_script("return document.getElementsByTagName('*').length") < 2000
    browser.find_element("id", "r-next").click()
    assert _shown(browser)[0] == f"A={fits[0]},B=0"
    browser.find_element("id", "c-next").click()
    assert _shown(browser)[0] == f"A={fits[0]},B={fits[1]}"
    browser.find_element("id", "r-prev").click()
    assert _shown(browser)[0] == f"A=0,B={fits[1]}"
    assert browser.find_element("id", "r-prev").get_attribute("disabled")
    page = (out / "index.html").read_text()
    assert page.count("<li>") == 101 and "and 100 more" in page
