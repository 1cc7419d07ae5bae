"""The parts of the SLURM backend that need no cluster: limits read from `scontrol show config` text, a study split
into arrays within them, the per-task file a task reads alone, SLURM's failure states read from a task's log.
(tests/test_slurm_study.py runs all of it on the real cluster.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from replay.batch import slurm_jobs, task_file
from replay.batch.plan import RunSpec
from replay.batch.slurm import write_array
from replay.batch.slurm_limits import DEFAULT_MAX_ARRAY_SIZE, Limits, array_spec, parse_config, split
from replay.errors import UsageError

CONFIG = """Configuration data as of 2026-12-04T17:00:00
AccountingStorageType   = accounting_storage/none
MaxArraySize            = 1001
MaxDBDMsgs              = 20008
MaxJobCount             = 10000
MaxJobId                = 67043328
"""


def test_limits_from_scontrol_and_the_default_when_it_does_not_say():
    limits = parse_config(CONFIG.replace("1001", "5"))
    assert (limits.max_array_size, limits.max_job_count, limits.note) == (5, 10000, "")
    silent = parse_config("slurm_load_ctl_conf error: Unable to contact slurm controller\n")
    assert (silent.max_array_size, silent.max_job_count) == (1001, 10000) and silent.assumed
    assert silent.note == ("scontrol did not tell MaxArraySize and MaxJobCount: assuming SLURM's default "
                           "(MaxArraySize = 1001, MaxJobCount = 10000)")
    assert parse_config(CONFIG.replace("MaxJobCount             = 10000\n", "")).assumed == ("MaxJobCount",)


def test_split_and_throttle():
    assert split(23, 5) == [range(0, 5), range(5, 10), range(10, 15), range(15, 20), range(20, 23)]
    assert split(2500, DEFAULT_MAX_ARRAY_SIZE) == [range(0, 1001), range(1001, 2002), range(2002, 2500)]
    assert split(3, 1001) == [range(0, 3)]
    assert array_spec(5, None) == "0-4" and array_spec(3, 8) == "0-2%8"


def _runs(n: int) -> list:
    return [RunSpec(f"k{i}", {"Radius": [str(i)]}, f"Radius={i}") for i in range(n)]


def test_arrays_files_and_what_a_task_reads(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("print(1)\n")
    job = write_array(script, _runs(23), tmp_path / "out", separate=True, max_concurrent=3,
                      limits=Limits(max_array_size=5))
    assert [(a.first, a.count) for a in job.arrays] == [(0, 5), (5, 5), (10, 5), (15, 5), (20, 3)]
    assert len({a.name for a in job.arrays}) == 5
    last = job.arrays[-1].script.read_text()
    assert "#SBATCH --array=0-2%3\n" in last and '"$((20 + SLURM_ARRAY_TASK_ID))"' in last
    tasks = list(task_file.read_all(job.directory))
    assert [t["runs"][0]["key"] for t in tasks] == [f"k{i}" for i in range(23)]
    for index in (0, 7, 22):
        assert task_file.read_task(str(job.tasks), index) == tasks[index]
    # task.py carries its own copy of read_task: a task at line 22 reads only its index entry and its line.
    source = (job.directory / "task.py").read_text()
    code = source.split("\n\nif __name__")[0] + (
        "\nimport json, sys\nwith open('/proc/self/io') as f: before = int(f.read().split('rchar:')[1].split()[0])\n"
        f"task = read_task({str(job.tasks)!r}, 22)\n"
        "with open('/proc/self/io') as f: after = int(f.read().split('rchar:')[1].split()[0])\n"
        "print(json.dumps([task, after - before]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    task, read = json.loads(out.splitlines()[-1])
    line = len(json.dumps(tasks[22], separators=(",", ":")).encode()) + 1
    assert task == tasks[22]
    # 32 bytes of index, the line, and /proc/self/io itself (read once, before the count ends).
    assert read - line - 32 < 4096, (read, line)


def test_too_many_tasks_for_max_job_count(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("print(1)\n")
    # Told how many runs a task serves: refused, naming the limit and what would fit.
    with pytest.raises(UsageError, match=r"30 array tasks exceed the cluster's MaxJobCount \(10\): give "
                                         r"--runs-per-task 3 or more"):
        write_array(script, _runs(30), tmp_path / "a", per_task=1, limits=Limits(max_job_count=10))
    # Not told: tasks serve more runs, so that the study fits.
    job = write_array(script, _runs(30), tmp_path / "b", limits=Limits(max_job_count=2),
                      session=lambda run: "one")
    assert job.count == 2 and [len(t["runs"]) for t in task_file.read_all(job.directory)] == [15, 15]


@pytest.mark.parametrize("log, state", [
    ("slurmstepd-vm: error: *** JOB 4 ON vm CANCELLED AT 2026-12-04T17:31:41 DUE TO TIME LIMIT ***", "TIMEOUT"),
    ("slurmstepd-vm: error: *** JOB 5 ON vm CANCELLED AT 2026-12-04T17:30:40 ***", "CANCELLED"),
    ("slurmstepd: error: *** JOB 7 ON n1 CANCELLED AT 2026-01-01T00:00:00 DUE TO PREEMPTION ***", "PREEMPTED"),
    ("slurmstepd: error: *** JOB 8 ON n1 CANCELLED AT 2026-01-01T00:00:00 DUE TO NODE FAILURE ***", "NODE_FAIL"),
    ("slurmstepd: error: Detected 1 oom-kill event(s) in StepId=9.batch. Some of your processes may have been "
     "killed by the cgroup out-of-memory handler.", "OUT_OF_MEMORY"),
    ("pvbatch said something else entirely", None),
])
def test_failure_states_from_a_task_log(log, state):
    assert slurm_jobs.state_from_log("some output\n" + log + "\nmore\n") == state


def test_failure_state_named_in_the_row_from_the_log(tmp_path):
    """No accounting, the controller has forgotten the job: the task's log names the state for the row."""
    from replay.batch.slurm import Watch

    job_dir = tmp_path / "slurm"
    (job_dir / "logs").mkdir(parents=True)
    run_dir = tmp_path / "Radius=1"
    run_dir.mkdir()
    task_file.write(job_dir, [{"command": ["pvbatch"], "worker": True, "status": ".replay-status.json",
                               "cwd": str(tmp_path), "runs": [
                                   {"key": "k1", "folder": str(run_dir), "script": "s.py", "argv": []},
                                   {"key": "k2", "folder": str(tmp_path / "Radius=2"), "script": "s.py",
                                    "argv": []}]}])
    (run_dir / ".replay-status.json").write_text(json.dumps(
        {"key": "k1", "returncode": -15, "seconds": 60.0, "outputs": [], "stopped": True, "stderr_tail": []}))
    (job_dir / "logs" / "999999_0.out").write_text(
        "slurmstepd-vm: error: *** JOB 999999 ON vm CANCELLED AT 2026-12-04T17:31:41 DUE TO TIME LIMIT ***\n")
    runs = {"k1": RunSpec("k1", {"Radius": ["1"]}, "Radius=1"), "k2": RunSpec("k2", {"Radius": ["2"]}, "Radius=2")}
    watch = Watch(job_dir, [{"id": "999999", "name": "x", "first": 0, "count": 1}], runs)
    stopped, = watch.landed()
    missing, = watch.missing()
    assert stopped["slurm_state"] == missing["slurm_state"] == "TIMEOUT"
    assert "stopped by SLURM (TIMEOUT: the task reached its time limit (--time-limit))" in stopped["error"]
    assert "left no status for this run (SLURM state TIMEOUT; the task reached its time limit" in missing["error"]
    assert Path(missing["folder"]).name == "Radius=2"
