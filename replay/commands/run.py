"""`replay run` (registered on replay.cli.app)."""
