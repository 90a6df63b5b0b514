"""Tests of :mod:`pyrodis.metrics`: known answers on designed codes of fake ground truth
(``kit.fake_codes``), invariances, the reference protocols and the compiled DCI trees."""
