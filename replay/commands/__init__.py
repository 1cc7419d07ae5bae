"""Commands beyond convert/inspect, one module each. Each registers on `replay.cli.app` and keeps
its heavy imports inside the command function, so `replay --help` stays fast."""
