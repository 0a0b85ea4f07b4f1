"""Reusable test doubles: a protocol-faithful fake server and a connection-cutting proxy."""
