"""Model backends the engine can generate with (llama.cpp, OpenAI-compatible, scripted)."""
