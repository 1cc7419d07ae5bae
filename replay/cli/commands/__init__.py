"""Commands beyond convert/inspect, one module each. replay/cli/app.py registers each on its app; each keeps
its heavy imports inside the command function, so `replay --help` stays fast."""
