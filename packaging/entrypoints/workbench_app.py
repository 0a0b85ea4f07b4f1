"""Entry point of the bundled ``workbench`` executable (the app and its sub-commands)."""

from workbench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
