"""The two hooks in .pre-commit-hooks.yaml, run by the real pre-commit against a temporary git repository.

`pre-commit try-repo` clones this project (with its uncommitted tracked changes) and installs it into a
fresh virtualenv from PyPI on every call (~6 s each here), so the steps share one repository.
"""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from test_check import CLEAN, DIRTY

ROOT = Path(__file__).resolve().parent.parent

UNRELATED = {
    "pkg/util.py": "import os\n\n\ndef here():\n    return os.getcwd()\n",
    "setup.py": "from setuptools import setup\nsetup(name='x')\n",
    "broken.py": "def f(:\n",  # not even Python: still not the hooks' business
    "notes/view.xml": "<notes/>\n",
}


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def git(repo, *args):
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=repo, check=True,
                   capture_output=True)


def try_repo(repo, hook, tmp_path):
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PRE_COMMIT_COLOR="never")
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--all-files"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=600)


def test_hooks_convert_then_pass_and_check_flags_connect_and_stale(tmp_path):
    repo = tmp_path / "repo"
    (repo / "sessions").mkdir(parents=True)
    (repo / "sessions" / "clean.py").write_text(CLEAN)
    (repo / "sessions" / "connect.py").write_text(DIRTY)
    (repo / "sessions" / "state.pvsm").write_bytes((ROOT / "fixtures" / "states" / "two_views.pvsm").read_bytes())
    for name, text in UNRELATED.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "recordings")
    unrelated = {name: digest(repo / name) for name in UNRELATED}
    recordings = {name: digest(repo / "sessions" / name) for name in ("clean.py", "connect.py", "state.pvsm")}

    first = try_repo(repo, "replay-convert", tmp_path)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "Failed" in first.stdout and "wrote sessions/clean_replay.py" in first.stdout
    made = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*_replay.py"))
    assert made == ["sessions/clean_replay.py", "sessions/connect_replay.py", "sessions/state_replay.py"]
    assert (repo / "sessions" / "clean_replay.py").read_text().startswith(
        "# replay: generated from clean.py (ParaView 5.11.0 trace) by: replay convert clean.py\n")
    git(repo, "add", ".")

    second = try_repo(repo, "replay-convert", tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout and "wrote" not in second.stdout
    assert {name: digest(repo / name) for name in UNRELATED} == unrelated
    assert {name: digest(repo / "sessions" / name) for name in recordings} == recordings

    # Edit a recording without refreshing its replay script, then lint everything.
    (repo / "sessions" / "clean.py").write_text(CLEAN.replace("157.0", "120.0"))
    check = try_repo(repo, "replay-check", tmp_path)
    assert check.returncode == 1, check.stdout + check.stderr
    problems = sorted(line for line in check.stdout.splitlines() if ": RP0" in line)
    assert "sessions/clean_replay.py:1:1: RP005 stale against its recording clean.py" in problems[0]
    codes = [line.split(": ")[1].split()[0] for line in problems]
    assert sorted(codes) == sorted(["RP005", "RP001", "RP001", "RP002", "RP003", "RP003", "RP006"])
    assert any(line.startswith("sessions/connect.py:7:1: RP001 Connect()") for line in problems)
    assert not any(name in check.stdout for name in UNRELATED) and "state" not in check.stdout
    assert {name: digest(repo / name) for name in UNRELATED} == unrelated


def readme_snippet():
    import re

    import yaml

    text = (ROOT / "README.md").read_text()
    section = text.split("### pre-commit", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    return yaml.safe_load(block)


def test_readme_snippet_runs_both_hooks(tmp_path):
    config = readme_snippet()
    assert [h["id"] for h in config["repos"][0]["hooks"]] == ["replay-convert", "replay-check"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    config["repos"][0].update(repo=str(ROOT), rev=head.stdout.strip())  # the user's URL and tag
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "clean.py").write_text(CLEAN)
    (repo / "util.py").write_text(UNRELATED["pkg/util.py"])
    import yaml

    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "recording")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PRE_COMMIT_COLOR="never")

    def run():
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=600)

    first = run()
    assert first.returncode == 1 and "wrote clean_replay.py" in first.stdout, first.stdout + first.stderr
    git(repo, "add", ".")
    second = run()
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("Passed") == 2
    assert sorted(p.name for p in repo.iterdir() if p.suffix == ".py") == ["clean.py", "clean_replay.py", "util.py"]
