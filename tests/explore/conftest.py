"""Tests of :mod:`pyrodis.explore`: the server's answers to good and bad requests (no browser),
the latent matching of two runs, and the page in headless Chromium (skipped with the reason
where no browser is installed). ``explore_support`` builds the tiny runs they serve."""
