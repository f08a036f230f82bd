"""Shipped device profiles (TOML data), installed as ``myoflow._profiles``."""
