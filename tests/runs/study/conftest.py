"""Tests of :mod:`pyrodis.runs.study`: study files, trials on Ray, the results table, the
analyses (with their uncertainty) and the study report."""
