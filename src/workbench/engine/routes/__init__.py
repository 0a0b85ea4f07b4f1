"""HTTP routes of the engine, mounted under every version prefix by ``server.py``."""
