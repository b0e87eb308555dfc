"""Subcommands of `cdn-offload`; each module has `register(subparsers)` and `run(args)`."""
