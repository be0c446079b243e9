"""The package's version, in one place (vaelib.__version__ and the figures cache read it)."""

__version__ = "0.1.0"
