"""`replay sweep` (registered on replay.cli.app)."""
