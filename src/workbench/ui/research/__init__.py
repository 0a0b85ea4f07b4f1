"""The Deep Research panel and its controller."""
