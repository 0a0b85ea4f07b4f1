"""Entry point of the bundled ``workbench-engine`` executable (the app starts it by path)."""

from workbench.engine.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
