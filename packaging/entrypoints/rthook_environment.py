"""Runtime hook of both bundled executables: give child processes the user's environment.

PyInstaller's bootloader points ``LD_LIBRARY_PATH`` at the bundle's own libraries and keeps the
user's value in ``LD_LIBRARY_PATH_ORIG``. This process has already loaded what it needs, but
system programs it starts (git, bwrap, xdg-open, a browser) would pick up the bundled
libraries and could fail, so the original value is put back before any code runs. The bundle's
``workbench-engine`` does not need it either: its own bootloader sets it again.
"""

import os

_orig = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
if _orig is not None:
    os.environ["LD_LIBRARY_PATH"] = _orig
else:
    os.environ.pop("LD_LIBRARY_PATH", None)
