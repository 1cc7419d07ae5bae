"""`replay check` over many typical traces in one call, as a ratio to a bare libcst parse of the same files.

    python3 benchmarks/bench_check.py [--traces 200] [--rounds 5]

Baseline (same rounds, same files): a fresh `python -c` that imports libcst and parses every file, so both
sides pay one interpreter start. Two cases for check: recordings alone (lint only), and recordings each with
a fresh `<stem>_replay.py` beside them (what the pre-commit hook sees: lint + regenerate to prove not stale),
each with the default processes (one per CPU) and with -j 1. Target (issue 14): recordings alone, default
processes, <= 2. Medians of paired whole-process runs (benchmarks/paired.py); no timing is asserted anywhere.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import paired  # noqa: E402

# A typical 5.11 trace: a reader, a few filters, display/colour/view settings, a time and a screenshot.
TRACE = """# trace generated using paraview version 5.11.0
#import paraview
#paraview.compatibility.major = 5
#paraview.compatibility.minor = 11

#### import the simple module from the paraview
from paraview.simple import *
#### disable automatic camera reset on 'Show'
paraview.simple._DisableFirstRenderCameraReset()

# create a new 'XML Image Data Reader'
wavevti = XMLImageDataReader(registrationName='wave{i}.vti', FileName=['/data/run{i}/wave.vti'])
wavevti.PointArrayStatus = ['RTData', 'Normals']

# get animation scene
animationScene1 = GetAnimationScene()

# update animation scene based on data timesteps
animationScene1.UpdateAnimationUsingDataTimeSteps()

# get active view
renderView1 = GetActiveViewOrCreate('RenderView')

# show data in view
wavevtiDisplay = Show(wavevti, renderView1, 'UniformGridRepresentation')

# trace defaults for the display properties.
wavevtiDisplay.Representation = 'Outline'
wavevtiDisplay.ColorArrayName = ['POINTS', '']
wavevtiDisplay.SelectTCoordArray = 'None'
wavevtiDisplay.SelectNormalArray = 'None'
wavevtiDisplay.SelectTangentArray = 'None'
wavevtiDisplay.OSPRayScaleArray = 'RTData'
wavevtiDisplay.OSPRayScaleFunction = 'PiecewiseFunction'
wavevtiDisplay.SelectOrientationVectors = 'None'
wavevtiDisplay.ScaleFactor = 2.0
wavevtiDisplay.SelectScaleArray = 'None'
wavevtiDisplay.GlyphType = 'Arrow'
wavevtiDisplay.GlyphTableIndexArray = 'None'
wavevtiDisplay.GaussianRadius = 0.1
wavevtiDisplay.SetScaleArray = ['POINTS', 'RTData']
wavevtiDisplay.ScaleTransferFunction = 'PiecewiseFunction'
wavevtiDisplay.OpacityArray = ['POINTS', 'RTData']
wavevtiDisplay.OpacityTransferFunction = 'PiecewiseFunction'
wavevtiDisplay.DataAxesGrid = 'GridAxesRepresentation'
wavevtiDisplay.PolarAxes = 'PolarAxesRepresentation'
wavevtiDisplay.ScalarOpacityUnitDistance = 1.7320508075688776
wavevtiDisplay.OpacityArrayName = ['POINTS', 'RTData']
wavevtiDisplay.SliceFunction = 'Plane'
wavevtiDisplay.Slice = 10

# init the 'PiecewiseFunction' selected for 'ScaleTransferFunction'
wavevtiDisplay.ScaleTransferFunction.Points = [37.35, 0.0, 0.5, 0.0, 276.8, 1.0, 0.5, 0.0]

# reset view to fit data
renderView1.ResetCamera(False)

# update the view to ensure updated data information
renderView1.Update()

# create a new 'Contour'
contour1 = Contour(registrationName='Contour1', Input=wavevti)
contour1.ContourBy = ['POINTS', 'RTData']
contour1.Isosurfaces = [{i}.5, 157.0]
contour1.PointMergeMethod = 'Uniform Binning'

# show data in view
contour1Display = Show(contour1, renderView1, 'GeometryRepresentation')

# get color transfer function/color map for 'RTData'
rTDataLUT = GetColorTransferFunction('RTData')
rTDataLUT.RGBPoints = [157.0, 0.23, 0.299, 0.754, 157.0, 0.865, 0.865, 0.865, 157.0, 0.706, 0.016, 0.15]
rTDataLUT.ScalarRangeInitialized = 1.0

# trace defaults for the display properties.
contour1Display.Representation = 'Surface'
contour1Display.ColorArrayName = ['POINTS', 'RTData']
contour1Display.LookupTable = rTDataLUT
contour1Display.SelectTCoordArray = 'None'
contour1Display.SelectNormalArray = 'Normals'
contour1Display.OSPRayScaleArray = 'RTData'
contour1Display.ScaleFactor = 1.8
contour1Display.GaussianRadius = 0.09

# hide data in view
Hide(wavevti, renderView1)

# show color bar/color legend
contour1Display.SetScalarBarVisibility(renderView1, True)

# create a new 'Slice'
slice1 = Slice(registrationName='Slice1', Input=contour1)
slice1.SliceType = 'Plane'
slice1.HyperTreeGridSlicer = 'Plane'
slice1.SliceOffsetValues = [0.0]
slice1.SliceType.Origin = [0.0, 0.0, {i}.0]
slice1.SliceType.Normal = [0.0, 0.0, 1.0]

slice1Display = Show(slice1, renderView1, 'GeometryRepresentation')
slice1Display.Representation = 'Surface'
slice1Display.LineWidth = 3.0

animationScene1.AnimationTime = 2.0

# get layout
layout1 = GetLayout()
layout1.SetSize(800, 600)

#-----------------------------------
# saving camera placements for views

# current camera placement for renderView1
renderView1.CameraPosition = [30.0, 20.0, 60.0]
renderView1.CameraFocalPoint = [0.0, 0.0, 0.0]
renderView1.CameraViewUp = [0.0, 1.0, 0.0]
renderView1.CameraParallelScale = 17.32

# save screenshot
SaveScreenshot('/out/run{i}/contour.png', renderView1, ImageResolution=[800, 600])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        alone, paired_dir = Path(tmp, "alone"), Path(tmp, "paired")
        alone.mkdir()
        paired_dir.mkdir()
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        import replay

        names = []
        for i in range(args.traces):
            text = TRACE.format(i=i)
            name = f"trace_{i:03d}.py"
            names.append(name)
            (alone / name).write_text(text)
            (paired_dir / name).write_text(text)
            (paired_dir / name.replace(".py", "_replay.py")).write_text(
                replay.convert_trace(text, source_name=name).code)
        lines = TRACE.count("\n")
        parse = [sys.executable, "-c", "import sys, libcst\nfor f in sys.argv[1:]:\n"
                 "    libcst.parse_module(open(f).read())", *names]
        scripts = [n.replace(".py", "_replay.py") for n in names]
        commands = {
            "pass": ([sys.executable, "-c", "pass"], alone),
            "parse": (parse, alone),
        }
        for jobs in ("0", "1"):
            check = [sys.executable, "-m", "replay", "check", "-j", jobs, *names]
            commands[f"lint{jobs}"] = (check, alone)
            commands[f"paired{jobs}"] = (check + scripts, paired_dir)
        found = paired(commands, args.rounds)
    times = {key: seconds for key, (seconds, _) in found.items()}
    startup, baseline = times["pass"], times["parse"]
    print(f"{args.traces} traces of {lines} lines, median of {args.rounds} paired rounds, {os.cpu_count()} CPUs")
    print(f"  python -c pass                                      {startup:7.3f} s")
    print(f"  baseline: python + libcst bare parse (1 process)    {baseline:7.3f} s")
    for jobs in ("0", "1"):
        how = "1 process" if jobs == "1" else f"{min(os.cpu_count() or 1, 8)} processes"
        lint_only, with_scripts = times[f"lint{jobs}"], times[f"paired{jobs}"]
        goal = f"   target <= 2: {'met' if lint_only / baseline <= 2 else 'NOT met'}" if jobs == "0" else ""
        print(f"  replay check, recordings alone, {how:12s}        {lint_only:7.3f} s   ratio "
              f"{lint_only / baseline:5.2f}{goal}")
        print(f"  replay check, + fresh replay scripts, {how:12s}  {with_scripts:7.3f} s   ratio "
              f"{with_scripts / baseline:5.2f}")
    print("  (with replay scripts: lint + regenerate each script to prove it is not stale)")


if __name__ == "__main__":
    main()
