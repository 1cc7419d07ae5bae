"""Measure how two outputs differ, inside ParaView's python: `pvpython compare_pv.py request.json`.

`replay verify` pairs the outputs and judges them; this helper only reads files it needs VTK for
(images and data sets) and reports numbers. It runs in pvpython, where replay is not installed,
so it imports only the stdlib, numpy (a ParaView dependency) and paraview/vtk.

request.json: {"tolerance": T, "result": "out.json",
               "pairs": [{"name": rel, "kind": "image"|"data", "a": path, "b": path, "diff": path|null}]}
out.json: one dict per pair, in order (see image() and data()).
"""
import json
import math
import os
import sys

import numpy

from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOImage import vtkImageReader2Factory, vtkPNGWriter
from vtkmodules.vtkCommonDataModel import vtkImageData


def read_image(path):
    reader = vtkImageReader2Factory.CreateImageReader2(path)
    if reader is None:
        return None
    reader.SetFileName(path)
    reader.Update()
    image = reader.GetOutput()
    scalars = image.GetPointData().GetScalars()
    if scalars is None:
        return None
    width, height, _ = image.GetDimensions()
    pixels = vtk_to_numpy(scalars).reshape(height, width, -1).astype(numpy.int64)
    return pixels


def write_difference(first, bad, path):
    """The recording's image dimmed to grey, with every pixel beyond the tolerance in red."""
    grey = first[:, :, :3].mean(axis=2) / 3.0
    out = numpy.stack([grey, grey, grey], axis=2)
    out[bad] = (255, 0, 0)
    height, width = bad.shape
    image = vtkImageData()
    image.SetDimensions(width, height, 1)
    from vtkmodules.util.numpy_support import numpy_to_vtk

    array = numpy_to_vtk(out.reshape(-1, 3).astype(numpy.uint8), deep=True)
    array.SetName("difference")
    image.GetPointData().SetScalars(array)
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    writer = vtkPNGWriter()
    writer.SetFileName(path)
    writer.SetInputData(image)
    writer.Write()


def image(pair, tolerance):
    """size_a/size_b [w, h]; pixels: pixels with a channel beyond the tolerance; max_channel: the
    largest channel difference (0-255); total: pixels in the image."""
    first, second = read_image(pair["a"]), read_image(pair["b"])
    if first is None or second is None:
        return {"readable": False}
    result = {"readable": True, "size_a": [first.shape[1], first.shape[0]],
              "size_b": [second.shape[1], second.shape[0]]}
    if first.shape[:2] != second.shape[:2]:
        return result
    channels = min(first.shape[2], second.shape[2])
    delta = numpy.abs(first[:, :, :channels] - second[:, :, :channels]).max(axis=2)
    bad = delta > tolerance * 255.0
    result.update(pixels=int(bad.sum()), max_channel=int(delta.max()), total=int(delta.size))
    if pair.get("diff") and (result["pixels"] or pair.get("always")):
        write_difference(first, bad, pair["diff"])
    return result


def read_data(path):
    from paraview import servermanager
    from paraview.simple import Delete, OpenDataFile

    try:
        reader = OpenDataFile(path)
    except Exception:  # noqa: BLE001 - an unknown format is "not readable", judged by bytes instead
        reader = None
    if reader is None:
        return None
    reader.UpdatePipeline()
    data = servermanager.Fetch(reader)
    Delete(reader)
    return data


def leaves(data):
    """(prefix, dataset) for a plain data set or each leaf of a multiblock."""
    if data is None:
        return []
    if data.IsA("vtkCompositeDataSet"):
        found = []
        iterator = data.NewIterator()
        iterator.InitTraversal()
        index = 0
        while not iterator.IsDoneWithTraversal():
            found.append(("block%d/" % index, iterator.GetCurrentDataObject()))
            index += 1
            iterator.GoToNextItem()
        return found
    return [("", data)]


def arrays(prefix, block):
    """name -> numpy array (or list of strings) for everything a data set carries."""
    found = {}
    if block.IsA("vtkDataSet"):
        if block.IsA("vtkPointSet") and block.GetPoints() is not None:
            found[prefix + "points"] = vtk_to_numpy(block.GetPoints().GetData())
        found[prefix + "bounds"] = numpy.array(block.GetBounds()) if block.GetNumberOfPoints() else numpy.zeros(0)
    groups = [("point", "GetPointData"), ("cell", "GetCellData"), ("field", "GetFieldData"), ("row", "GetRowData")]
    for label, getter in groups:
        if not hasattr(block, getter):
            continue
        attributes = getattr(block, getter)()
        if attributes is None:
            continue
        for i in range(attributes.GetNumberOfArrays()):
            array = attributes.GetAbstractArray(i)
            name = "%s%s %s" % (prefix, label, array.GetName() or "#%d" % i)
            if array.IsA("vtkDataArray"):
                found[name] = vtk_to_numpy(array)
            else:
                found[name] = [array.GetVariantValue(j).ToString() for j in range(array.GetNumberOfValues())]
    return found


def counts(data):
    points = cells = rows = 0
    for _, block in leaves(data):
        if block.IsA("vtkDataSet"):
            points += block.GetNumberOfPoints()
            cells += block.GetNumberOfCells()
        elif block.IsA("vtkTable"):
            rows += block.GetNumberOfRows()
    return {"points": points, "cells": cells, "rows": rows, "type": data.GetClassName()}


def compare_array(first, second, tolerance):
    """values: how many; bad: how many differ beyond the tolerance; max_abs: largest |a - b|."""
    if isinstance(first, list) or isinstance(second, list):
        if not (isinstance(first, list) and isinstance(second, list)) or len(first) != len(second):
            return {"shape_a": len(first), "shape_b": len(second)}
        bad = sum(1 for x, y in zip(first, second) if x != y)
        return {"values": len(first), "bad": bad, "max_abs": None}
    if first.shape != second.shape:
        return {"shape_a": list(first.shape), "shape_b": list(second.shape)}
    a = first.astype(numpy.float64).ravel()
    b = second.astype(numpy.float64).ravel()
    both_nan = numpy.isnan(a) & numpy.isnan(b)
    delta = numpy.where(both_nan, 0.0, numpy.abs(a - b))
    delta = numpy.where(numpy.isnan(delta), numpy.inf, delta)
    # |a - b| <= T * max(1, |a|, |b|): relative for large values, absolute below 1.
    scale = numpy.maximum(1.0, numpy.maximum(numpy.abs(numpy.nan_to_num(a)), numpy.abs(numpy.nan_to_num(b))))
    bad = delta > tolerance * scale
    largest = float(delta.max()) if delta.size else 0.0
    return {"values": int(a.size), "bad": int(bad.sum()), "max_abs": largest if math.isfinite(largest) else "inf"}


def data(pair, tolerance):
    """counts_a/counts_b {points, cells, rows, type}; arrays: {name: compare_array(...)} with
    'missing': 'a'|'b' for an array only one side has."""
    first, second = read_data(pair["a"]), read_data(pair["b"])
    if first is None or second is None:
        return {"readable": False}
    result = {"readable": True, "counts_a": counts(first), "counts_b": counts(second), "arrays": {}}
    found_a, found_b = {}, {}
    for prefix, block in leaves(first):
        found_a.update(arrays(prefix, block))
    for prefix, block in leaves(second):
        found_b.update(arrays(prefix, block))
    for name in sorted(set(found_a) | set(found_b)):
        if name not in found_b:
            result["arrays"][name] = {"missing": "b"}
        elif name not in found_a:
            result["arrays"][name] = {"missing": "a"}
        else:
            result["arrays"][name] = compare_array(found_a[name], found_b[name], tolerance)
    return result


def main(request_path):
    with open(request_path) as handle:
        request = json.load(handle)
    tolerance = float(request["tolerance"])
    results = []
    for pair in request["pairs"]:
        try:
            measure = image if pair["kind"] == "image" else data
            results.append(measure(pair, tolerance))
        except Exception as exc:  # noqa: BLE001 - one unreadable file must not hide the others
            results.append({"readable": False, "error": "%s: %s" % (type(exc).__name__, exc)})
    with open(request["result"], "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main(sys.argv[1])
