"""The batch side of replay: running replay scripts under pvbatch (runner), sweeps of many runs (plan, study),
kept-pipeline workers (worker, worker_driver), SLURM job arrays (slurm) and what a sweep leaves (gallery,
cinema). The other half of the package converts recordings. slurm depends on study's neighbours (plan, runner,
worker), never on study itself."""
