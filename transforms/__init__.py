"""Offload analytics: path templates, minute rollups, offload metrics and flags."""
