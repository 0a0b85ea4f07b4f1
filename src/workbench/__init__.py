"""Workbench: a desktop workbench and a local engine for the Gemini Interactions API."""

__version__ = "0.1.0"
