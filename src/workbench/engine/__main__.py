"""``python -m workbench.engine`` runs the engine (the app starts it this way)."""

from workbench.engine.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
