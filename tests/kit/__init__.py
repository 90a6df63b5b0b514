"""Test doubles shared by several test folders (``tests/`` is on ``sys.path`` through its
``conftest.py``): ``fake_codes`` (designed codes of fake ground truth, for the metrics) and
``tiny_bars`` (a tiny dataset, guide and decoder, for the diagnostics and the report)."""
