"""The committed version tables are what the real releases say: each is made again by its own pvpython
(replay/pvtables/make.py) and must come out byte for byte the same. One pvpython run per version."""
import subprocess
from pathlib import Path

import pytest
from pv import paraview_program

from replay import pvtables
from replay.batch.runner import lost_display, xvfb_run

MAKE = Path(pvtables.__file__).with_name("make.py")


def pvpython_of(version: str) -> str:
    return paraview_program("pvpython", version)


def test_a_table_for_every_release_debian_ships():
    assert pvtables.available() == [(5, 9), (5, 11), (5, 13), (6, 1)]


@pytest.mark.parametrize("version", ["5.9", "5.11", "5.13", "6.1"])
def test_table_is_what_the_release_says(version, tmp_path):
    target = tmp_path / f"paraview-{version}.json.gz"
    for _ in range(3):
        proc = subprocess.run([*xvfb_run(), pvpython_of(version), str(MAKE), str(target)], capture_output=True,
                              text=True, timeout=300)
        if proc.returncode == 0 or not (lost_display(proc.stderr) or proc.returncode in (134, 135, 139)):
            break
    assert proc.returncode == 0, proc.stderr[-2000:]
    committed = MAKE.with_name(f"paraview-{version}.json.gz").read_bytes()
    assert target.read_bytes() == committed, f"paraview-{version}.json.gz is stale: run make.py under pvpython {version}"


def test_pins_come_from_real_differences():
    """What 6.1 changed and a 5.11 recording must keep: the background and the colour map's preset."""
    pins = pvtables.pins_for((5, 11))
    # 5.11 draws the palette's background (0.32, 0.34, 0.43), not its view's own (0.329, 0.349, 0.427)
    assert pins["RenderView"]["Background"] == [0.32, 0.34, 0.43]
    assert "ColorPalette" not in pins  # a setting: pvbatch would save it into the user's ParaView settings
    assert pins["LookupTable"]["ColorSpace"] == "Diverging"
    assert pvtables.pins_for((6, 1))["LookupTable"]["ColorSpace"] == "Lab"
    # 5.9 has no palette switch: its view's own background is what it drew.
    assert pvtables.pins_for((5, 9))["RenderView"]["Background"] == [0.32, 0.34, 0.43]


def test_recorded_for_takes_what_the_trace_sets():
    text = (Path(__file__).parent.parent / "fixtures" / "versions" / "5.13" / "matrix.py").read_text()
    recorded = pvtables.recorded_for(text, (5, 13))
    assert recorded["version"] == [5, 13] and recorded["table"] == "5.13"
    assert recorded["defaults"]["LegendGrid"]["RenderView"] == "LegendGridActor"
    assert recorded["lists"]["Grid Axes 3D Actor"] == "GridAxes3DActor"
    assert pvtables.recorded_for(text, None) is None
    # A version without its own table takes the newest older one.
    assert pvtables.recorded_for(text, (5, 12))["table"] == "5.11"
