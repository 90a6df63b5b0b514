"""Test doubles shared by several test folders (``tests/`` is on ``sys.path`` through its
``conftest.py``): ``fake_codes`` (designed codes of fake ground truth, for the metrics),
``tiny_bars`` (a tiny dataset, guide and decoder, for the diagnostics and the report),
``user_model`` (a user's model/guide pair, for the training loop) and ``user_programs`` (the
pieces of the user-written Pyro programs: data, networks, a one-site model and guide)."""
