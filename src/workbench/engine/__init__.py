"""The local engine: the Interactions API served on 127.0.0.1 by a local model."""
