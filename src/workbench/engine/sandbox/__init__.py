"""The managed-agent sandbox: environments on disk, their files, and isolated code execution.

Modules (each small, each usable on its own):

* ``paths``     — the wire path model (§9.4): resolve a path inside a root, refuse escapes;
* ``records``   — ``EnvironmentRecord`` (the metadata file), id, ``env`` and page-token checks;
* ``store``     — ``EnvironmentStore``: create / fork / update / list / get / delete;
* ``folders``   — make / copy (fork) / remove an environment's folder;
* ``materialize`` — the environment an interaction runs in (reuse, fork, create, update);
* ``sources``   — inline and repository sources;
* ``network``   — ``NetworkPolicy`` from the wire ``network`` value;
* ``files``     — list / stat / read / write / delete inside a root;
* ``archive``   — the tar download stream and safe extraction of uploads;
* ``upload``    — ``UploadManager``: resumable upload sessions (§9.7);
* ``expiry``    — ``EnvironmentSweeper``: unused environments expire, then go (§9.3);
* ``isolation`` — which isolation mechanism this machine has (bubblewrap first);
* ``exec``      — ``CodeRunner``: run Python / bash in an environment with limits.

Failures are ``errors.SandboxError`` subclasses carrying the HTTP status to answer.
"""

from .errors import Conflict, InvalidRequest, NotFound, SandboxError, SandboxPathError, Unavailable
from .exec import CodeRunner, ExecLimits, ExecResult
from .isolation import Isolation, Mechanism
from .materialize import materialize
from .network import NetworkPolicy, parse_network
from .records import EnvironmentRecord, bare_id, check_env_vars
from .store import EnvironmentStore
from .upload import ChunkResult, UploadManager, UploadSession

__all__ = [
    "ChunkResult",
    "CodeRunner",
    "Conflict",
    "EnvironmentRecord",
    "EnvironmentStore",
    "ExecLimits",
    "ExecResult",
    "InvalidRequest",
    "Isolation",
    "Mechanism",
    "NetworkPolicy",
    "NotFound",
    "SandboxError",
    "SandboxPathError",
    "Unavailable",
    "UploadManager",
    "UploadSession",
    "bare_id",
    "check_env_vars",
    "materialize",
    "parse_network",
]
