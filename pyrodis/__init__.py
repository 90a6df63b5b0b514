"""pyrodis: learning and evaluating disentangled representations with Pyro."""

__version__ = "0.1.0"
