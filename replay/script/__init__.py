"""The generated script: a parameter block and runtime helpers shared by traces and states."""
