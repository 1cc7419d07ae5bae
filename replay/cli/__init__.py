"""The command line. launch.py is the entry point: plain convert/check/sync command lines run from there
without the CLI framework; app.py is the typer app, which registers the commands in commands/ and completion.py
offers --param names. Keep this file free of imports: the fast path loads the package."""
