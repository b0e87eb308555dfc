"""cdn-offload: the command-line front door of the pipeline."""

__version__ = "0.1.0"
