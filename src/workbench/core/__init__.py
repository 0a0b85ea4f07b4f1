"""App services without Qt: paths, secrets, the engine process, stream accumulation, history."""
