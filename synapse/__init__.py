"""Synapse: settings, the composition root and the CLI."""

__all__ = ["__version__"]

__version__ = "0.1.0"
