"""Fixtures for core tests: the real keyring fixtures live in ``support/keyring_service.py``
and are shared through ``tests/conftest.py``."""
