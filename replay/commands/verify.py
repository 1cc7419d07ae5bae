"""`replay verify` (registered on replay.cli.app)."""
