"""Tests of :mod:`pyrodis.runs`: configs and their precedence, the run directory (lock,
checkpoints, log), training and evaluating a run, and the run report. The studies are in
``study/``; crashes, kills and damaged files are in ``tests/faults/``."""
