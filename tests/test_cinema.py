"""data.csv: every sweep folder is a Cinema Spec D database, read here with pycinema's CinemaDatabaseReader
(pip install pycinema, in the test extras). The sweep tests read the databases of real pvbatch sweeps."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from cdb import FILE_COLUMNS, read_cdb, spec_d_problems
from pv import run_replay
from replay.batch.cinema import data_csv
from replay.batch.study import write_records

HEADER = {"replay_sweep": 1, "script": "/x/s_replay.py", "script_name": "s_replay.py", "script_sha256": "0"}


def _row(folder, params, status="ok", outputs=(), error=None):
    return {"folder": folder, "params": params, "status": status, "returncode": 0 if status == "ok" else 1,
            "seconds": 1.0, "outputs": list(outputs), "error": error, "key": folder}


def _write(out: Path, rows):
    for row in rows:
        (out / row["folder"]).mkdir(parents=True, exist_ok=True)
        for k, name in enumerate(row["outputs"]):
            path = out / row["folder"] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if name.endswith(".png"):
                Image.new("RGB", (8, 6), (k * 60, 10, 10)).save(path)
            else:
                path.write_text("x")
    write_records(out, HEADER, rows)


def test_pycinema_reads_a_study_with_two_images_per_run(tmp_path):
    out = tmp_path / "study.cdb"
    rows = [
        _row("Isosurfaces=100,FileName=a.vti", {"Isosurfaces": "100", "FileName": "/d/a.vti"},
             status="failed", error="pvbatch exited with 1: boom"),
        _row("Isosurfaces=100,FileName=b.vti", {"Isosurfaces": "100", "FileName": "/d/b.vti"},
             outputs=["contour.png", "views/slice.png", "data.vtp"]),
        _row("Isosurfaces=150.5,FileName=a.vti", {"Isosurfaces": "150.5", "FileName": "/d/a.vti"},
             outputs=["contour.png", "views/slice.png", "data.vtp"]),
    ]
    _write(out, rows)
    header, table = read_cdb(out)
    # Parameters, the status, then one FILE column per image (data files are not images).
    assert header == ["Isosurfaces", "FileName", "status", "FILE_contour", "FILE_views_slice"]
    assert spec_d_problems(out, header, table) == []
    # Runs that succeeded first; a column mixing 100 and 150.5 is floats throughout.
    assert [(r["Isosurfaces"], r["status"]) for r in table] == [("100.0", "ok"), ("150.5", "ok"),
                                                                ("100.0", "failed")]
    assert [r["FileName"] for r in table] == ["/d/b.vti", "/d/a.vti", "/d/a.vti"]
    assert table[0]["FILE_views_slice"] == f"{out}/Isosurfaces=100,FileName=b.vti/views/slice.png"
    assert table[2]["FILE_contour"] == f"{out}/"  # no image: an empty cell (pycinema prefixes it anyway)
    # pycinema's ImageReader loads every image of a FILE column, with the row as its metadata.
    from pycinema.filters import CinemaDatabaseReader, ImageReader, TableQuery

    reader = CinemaDatabaseReader()
    reader.inputs.file_column.set(FILE_COLUMNS)
    reader.inputs.path.set(str(out))
    query = TableQuery()
    query.inputs.table.set(reader.outputs.table)
    query.inputs.sql.set("SELECT * FROM input WHERE status = 'ok'")
    images = ImageReader()
    images.inputs.file_column.set("^FILE_contour$")
    images.inputs.table.set(query.outputs.table)
    loaded = images.outputs.images.get()
    assert [i.meta["FileName"] for i in loaded] == ["/d/b.vti", "/d/a.vti"]
    assert all(i.channels["rgba"].shape == (6, 8, 4) for i in loaded)


def test_one_image_name_is_the_FILE_column_and_folders_are_quoted(tmp_path):
    out = tmp_path / "study"
    rows = [_row('time=0.0,Label=a "b", c', {"time": "0.0", "Label": 'a "b", c'}, outputs=["t.png"]),
            _row("time=1.0,Label=2", {"time": "1.0", "Label": "2"}, outputs=["t.png"])]
    _write(out, rows)
    header, table = read_cdb(out)
    assert header == ["time", "Label", "status", "FILE"]
    assert table[0]["FILE"] == f'{out}/time=0.0,Label=a "b", c/t.png'
    assert [r["time"] for r in table] == ["0.0", "1.0"]


def test_names_that_would_read_as_file_columns_are_renamed():
    text = data_csv([_row("x", {"FILE": "1", "status": "2"}, outputs=["a.png"])])
    assert text.splitlines() == ["param_FILE,param_status,status,FILE", "1,2,ok,x/a.png"]


def test_cinema_option_names_the_folder(tmp_path):
    script = tmp_path / "s_replay.py"
    script.write_text("print(1)\n")
    proc = run_replay("sweep", script, "--grid", "x=1", "--cinema", tmp_path / "study")
    assert proc.returncode == 2 and "a Cinema database folder is named NAME.cdb" in proc.stderr
    proc = run_replay("sweep", script, "--grid", "x=1", "--cinema", tmp_path / "a.cdb", "-o", tmp_path / "b")
    assert proc.returncode == 2 and "give one folder" in proc.stderr
    assert not (tmp_path / "a.cdb").exists() and not (tmp_path / "b").exists()
