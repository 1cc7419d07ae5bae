"""pvbatch side of the filter suite: `pvbatch filter_batch.py JOBS.json LOG.jsonl` runs many scripts in one process.

Stdlib and paraview only. Each job ({"id", "script", "argv"}) runs in a fresh ParaView session, as a pvbatch of its
own would: no pipeline, view or active object left, and paraview.simple as that script imports it. The last needs
care: a replay script switches ParaView's compatibility mode on before it imports paraview.simple, and simple
makes its functions for that mode at import (5.13's compatibility 5.11 adds GenerateIds as a deprecated alias,
which fails with a TypeError when called). So the driver reads the mode the script will set and imports simple
again whenever it differs from the mode simple was imported with (2 s on 5.13 and 6.1, so the caller groups the
jobs by mode); a script that ends in another mode than that runs again with simple imported for its mode.
SystemExit and exceptions end the job, not the batch. The log gets a "start" line before and an "end" line after
each job, so a job that kills the process is known and the caller goes on with the next one in a new process.
"""
import contextlib
import io
import json
import os
import sys
import time
import traceback

import paraview
import paraview.simple as simple
from paraview import servermanager


# What a script leaves behind, deleted before the next one; newest first, so consumers go before their inputs.
GROUPS = ("extractors", "representations", "scalar_bars", "views", "layouts", "lookup_tables",
          "piecewise_functions", "transfer_2d_functions", "sources")


def _worker_driver():
    """replay's sweep worker driver (stdlib and paraview only, as this file): its reading of the mode a script sets."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "replay", "batch", "worker_driver.py")
    spec = importlib.util.spec_from_file_location("replay_worker_driver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worker_driver = _worker_driver()
compatibility_of = worker_driver.mode_of
imported_with = [(None, None)]


def import_simple_for(mode):
    """paraview.simple as a script that sets `mode` before importing it gets it."""
    global simple
    paraview.compatibility.major, paraview.compatibility.minor = mode
    if mode == imported_with[0]:
        return
    for name in [name for name in sys.modules if name == "paraview.simple" or name.startswith("paraview.simple.")]:
        del sys.modules[name]
    if hasattr(paraview, "simple"):
        del paraview.simple
    import paraview.simple as simple  # noqa: F811
    imported_with[0] = mode
    untouched.keep_simple()


class Untouched:
    """What a replay script wraps in ParaView's Python (its adapter, its checks), as ParaView made it: put back
    before each job, so that a trace run as it is after a replay is not helped by the replay's wrappers."""

    def __init__(self):
        import paraview._backwardscompatibilityhelper as helper
        self.places = [(servermanager.Proxy, "__setattr__"), (servermanager.Proxy, "__getattr__"),
                       (servermanager.SourceProxy, "UpdatePipeline"), (helper, "GetProxy"),
                       (servermanager.ParaViewPipelineController, "PostInitializeProxy")]
        self.values = [place.__dict__.get(name) for place, name in self.places]
        self.simple = None

    def keep_simple(self):
        self.simple = dict(vars(simple))
        if isinstance(self.simple.get("__all__"), list):  # an adapter may add its names to it in place
            self.simple["__all__"] = list(self.simple["__all__"])

    def restore(self):
        for (place, name), value in zip(self.places, self.values):
            if value is None:
                if name in place.__dict__:
                    delattr(place, name)
            else:
                setattr(place, name, value)
        if self.simple is not None:
            for name in set(vars(simple)) - set(self.simple):
                delattr(simple, name)
            vars(simple).update(self.simple)
            if "__all__" in self.simple:
                simple.__all__ = list(self.simple["__all__"])


untouched = Untouched()


def fresh_session():
    """A session as a new pvbatch has it. ResetSession does that but costs 0.3-1 s on every release; taking
    the pipeline and the views away costs milliseconds."""
    paraview.compatibility.major = None
    paraview.compatibility.minor = None
    untouched.restore()
    controller = servermanager.ParaViewPipelineController()
    pxm = servermanager.ProxyManager()
    for group in GROUPS:
        proxies = list(pxm.GetProxiesInGroup(group).items())
        proxies.sort(key=lambda item: -int(item[1].GetGlobalIDAsString()))
        for (name, _id), proxy in proxies:
            if pxm.GetProxy(group, name) is None:
                continue  # already gone with the view or the filter it belonged to
            try:
                controller.UnRegisterProxy(proxy)
            except Exception:  # noqa: BLE001
                pxm.UnRegisterProxy(group, name, proxy)
    simple.SetActiveView(None)
    simple.SetActiveSource(None)
    scene, keeper = simple.GetAnimationScene(), simple.GetTimeKeeper()
    scene.AnimationTime = 0.0
    keeper.Time = 0.0


def run(job):
    script = job["script"]
    sys.argv = [script] + list(job.get("argv", []))
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    err = io.StringIO()
    status = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            with open(script, "rb") as handle:
                code = compile(handle.read(), script, "exec")
            with worker_driver.as_main(script) as namespace:
                exec(code, namespace)
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if not isinstance(stop.code, (int, type(None))):
                err.write("%s\n" % (stop.code,))
        except BaseException:  # noqa: BLE001 - recorded, and the batch goes on
            traceback.print_exc(file=err)
            status = 1
    return status, err.getvalue()


def main():
    jobs_file, log_file = sys.argv[1], sys.argv[2]
    # A script that stops (a filter this release lacks) ends its job with SystemExit, as in a sweep worker,
    # rather than finalizing MPI and ending the batch (replay/script/runtime.py _replay_mpi).
    os.environ["REPLAY_SWEEP_WORKER"] = "1"
    with open(jobs_file, encoding="utf-8") as handle:
        jobs = json.load(handle)
    with open(log_file, "a", encoding="utf-8") as log:
        untouched.keep_simple()
        for index, job in enumerate(jobs):
            log.write(json.dumps({"id": job["id"], "event": "start"}) + "\n")
            log.flush()
            started = time.monotonic()
            if index:
                fresh_session()
            with open(job["script"], encoding="utf-8") as handle:
                import_simple_for(compatibility_of(handle.read()))
            status, stderr = run(job)
            wanted = (paraview.compatibility.major, paraview.compatibility.minor)
            if wanted != imported_with[0]:
                # The script set another mode than its preamble said (replay changed how it writes it): run it
                # again with paraview.simple as that mode makes it.
                fresh_session()
                import_simple_for(wanted)
                status, stderr = run(job)
            log.write(json.dumps({"id": job["id"], "event": "end", "status": status, "stderr": stderr[-4000:],
                                  "seconds": round(time.monotonic() - started, 3)}) + "\n")
            log.flush()


if __name__ == "__main__":
    main()
