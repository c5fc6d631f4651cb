"""Provenance of stored build artifacts: nothing the tree under check supplies is trusted.

The build folder (``<state>/build``), the artifact store (``Settings.artifact_cache``) and the
result cache hold what an earlier run of this pipeline compiled and audited. A fingerprint of
the source is no proof of that: anyone can compute it, and a branch can commit a build folder
(``git add -f .sequent/build``) holding a build of other sources, or an ``.olean`` the kernel
never checked. Two rules close that:

* :func:`refuse_tracked_state`: a checkout whose git index tracks any file under the state
  folder, the Lean install or the artifact store (when they lie inside the repository) is
  refused, with a message that says how to untrack them;
* :class:`Provenance`: every stored artifact carries an HMAC-SHA256, under a key that lives
  outside the checkout (``Settings.provenance_key_path``: ``$XDG_STATE_HOME/sequent`` or
  ``~/.local/state/sequent``, created 0600 on first use), over what it is: the module, its
  fingerprint, the sha256 of every part Lean wrote, the Lean version and the audit version.
  An entry without a valid MAC, or whose files no longer hash to what the MAC covers, is not
  used: the build compiles the module again from source, and a check refuses to import it.

A local user who can read the key can forge entries; the key is this user's, like the
pipeline's code and the Lean install, and is not defended against that user
(docs/lean-backends.md, "Trust").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import subprocess
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.errors import InputError, PolicyConfigError
from pipeline.settings import Settings

KEY_BYTES = 32


class Provenance:
    """This user's MAC key for build artifacts (see the module docstring)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def load(cls, settings: Settings) -> Provenance:
        """The key at ``settings.provenance_key_path``, created (0600) when missing. A key
        inside the project, or readable by others, is refused."""
        path = settings.provenance_key_path
        if path.resolve().is_relative_to(settings.project_root.resolve()):
            raise PolicyConfigError(
                f"the build-provenance key {path} lies inside the project {settings.project_root}: "
                "a checkout could then supply it; set SEQUENT_PROVENANCE_KEY to a path outside it")
        try:
            return cls(_read_or_create_key(path))
        except OSError as exc:
            raise PolicyConfigError(
                f"the build-provenance key {path} cannot be created or read ({exc.strerror or exc}); "
                "set SEQUENT_PROVENANCE_KEY to a writable path outside the project") from exc

    def mac(self, *fields: object) -> str:
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def valid(self, mac: object, *fields: object) -> bool:
        return isinstance(mac, str) and hmac.compare_digest(mac, self.mac(*fields))

    def cache_key(self, key: str) -> str:
        """The name under which a result with check key ``key`` is stored: only a holder of
        this key can name (and so plant) an entry that a lookup of ``key`` finds."""
        return self.mac("result-cache", key)


def _read_or_create_key(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return _create_key(path)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PolicyConfigError(
                f"the build-provenance key {path} is readable or writable by others "
                f"(mode {stat.filemode(info.st_mode)}); run `chmod 600 {path}`")
        key = handle.read()
    if len(key) < KEY_BYTES:
        raise PolicyConfigError(f"the build-provenance key {path} is too short; delete it to make a new one")
    return key


def _create_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = os.urandom(KEY_BYTES)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    try:
        os.link(tmp, path)  # atomic, and never replaces a key another process created first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read_or_create_key(path)


# -- file digests ---------------------------------------------------------------------------
_DIGESTS: dict[str, tuple[tuple[int, ...], str]] = {}
_DIGESTS_LOCK = threading.Lock()


def file_sha256(path: Path) -> str | None:
    """The file's sha256 (``None``: no such file), remembered per file version (inode, size,
    modification and change times: a rewrite changes the change time, which no user can set)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    key = str(path)
    with _DIGESTS_LOCK:
        known = _DIGESTS.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with _DIGESTS_LOCK:
        _DIGESTS[key] = (stamp, digest)
    return digest


def parts_digest(olean: Path, suffixes: Sequence[str]) -> dict[str, str]:
    """``suffix -> sha256`` of every part of a compiled module that exists beside ``olean``."""
    stem = str(olean)[: -len(".olean")]
    out: dict[str, str] = {}
    for suffix in suffixes:
        digest = file_sha256(Path(stem + suffix))
        if digest is not None:
            out[suffix] = digest
    return out


# -- the checkout may not supply the state ----------------------------------------------------
def tracked_state(settings: Settings, extra: Iterable[Path] = ()) -> list[str]:
    """Files under the state folder, the Lean install, the artifact store or ``extra`` that the
    git index of the project's repository tracks (none when the project is not in git)."""
    root = settings.project_root
    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if top.returncode != 0 or not top.stdout.strip():
        return []
    toplevel = Path(top.stdout.strip()).resolve()
    folders = [settings.state, settings.lean_dir, *([settings.artifact_cache] if settings.artifact_cache else []),
               *extra]
    specs = sorted({str(p.resolve().relative_to(toplevel)) for p in folders
                    if p.resolve().is_relative_to(toplevel) and p.resolve() != toplevel})
    if not specs:
        return []
    listed = subprocess.run(["git", "-C", str(toplevel), "ls-files", "-z", "--", *[f":(top,literal){s}" for s in specs]],
                            capture_output=True, text=True, check=False, timeout=30)
    if listed.returncode != 0:
        return []
    return [p for p in listed.stdout.split("\0") if p]


def refuse_tracked_state(settings: Settings) -> None:
    """Raise when the checkout tracks files where this pipeline keeps what it built."""
    tracked = tracked_state(settings)
    if tracked:
        shown = ", ".join(tracked[:5]) + (f" and {len(tracked) - 5} more" if len(tracked) > 5 else "")
        raise InputError(
            f"refusing to check {settings.project_root}: its git index tracks {len(tracked)} file(s) under "
            f"the pipeline's state folder ({shown}). Build artifacts, results and the Lean install there "
            "would come from the tree under check instead of from this pipeline's own build. Untrack them "
            f"(`git rm -r --cached -- {_top_folder(tracked[0], settings)}` from the repository's top) and "
            f"commit; keep {settings.state.name}/ git-ignored.")


def _top_folder(tracked: str, settings: Settings) -> str:
    """The state folder (or install, or store) holding ``tracked``, as a repository path."""
    for folder in (settings.state, settings.lean_dir, settings.artifact_cache):
        if folder is None:
            continue
        parts = folder.resolve().parts
        for n in range(1, len(parts) + 1):
            suffix = "/".join(parts[-n:])
            if tracked == suffix or tracked.startswith(suffix + "/"):
                return suffix
    return tracked


__all__ = ["Provenance", "file_sha256", "parts_digest", "refuse_tracked_state", "tracked_state"]
