"""`replay check` (registered on replay.cli.app)."""
