"""The version of pyrodis (one place; the package and its run files read it)."""

__version__ = "0.2.0"
