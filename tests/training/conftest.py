"""Tests of :mod:`pyrodis.training`: ``fit``/``Trainer`` on any data, schedules, exact resume
of the loop's state, and the old ``pyrodis.inference`` paths kept for one release."""
