"""The pipeline's only door to git (the gate, the report, the service's export): resolve refs,
read files from commits, export a tree, write a commit on a new branch.

:class:`GitRepository` owns one ``git.Repo`` for its whole life (use it as a context
manager). It never writes to the user's working tree, index or checked-out branch: a revision
other than the checked-out working tree is exported with ``git archive`` into a temporary
directory, and a commit is written through a temporary index (:meth:`GitRepository.commit_file`)
onto a branch created with a compare-and-swap (:meth:`GitRepository.create_branch`).
Every gitpython/gitdb error is translated to :class:`~pipeline.errors.GateError` here, and only here.
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Self

import git
from gitdb.exc import BadName, BadObject

from pipeline.errors import GateError

ZERO_SHA = "0" * 40
"""What git passes for a missing side (a new branch, a deleted ref) to hooks."""

_DEFAULT_BRANCH_CANDIDATES = ("origin/main", "origin/master", "main", "master")


class GitRepository:
    """A non-bare git repository holding the project."""

    def __init__(self, path: Path) -> None:
        try:
            self._repo = git.Repo(path, search_parent_directories=True)
        except git.NoSuchPathError as exc:
            raise GateError(f"{path} does not exist") from exc
        except git.InvalidGitRepositoryError as exc:
            raise GateError(f"{path} is not inside a git repository") from exc
        if self._repo.bare or self._repo.working_tree_dir is None:
            self._repo.close()
            raise GateError(f"{path} is a bare git repository; a working tree is needed")
        self.root = Path(self._repo.working_tree_dir).resolve()

    # ---- life ----------------------------------------------------------------------
    def close(self) -> None:
        self._repo.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- refs ----------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        """The full commit id ``ref`` names; :class:`GateError` if it names none."""
        if not ref.strip() or ref.startswith("-"):
            raise GateError(f"invalid git ref {ref!r}")
        try:
            return str(self._repo.commit(ref).hexsha)
        except (BadName, BadObject, ValueError, git.GitCommandError) as exc:
            raise GateError(f"unknown git ref {ref!r} in {self.root}") from exc

    def has_commit(self, sha: str) -> bool:
        try:
            self.resolve(sha)
        except GateError:
            return False
        return True

    def head_sha(self) -> str | None:
        """The commit checked out under the working tree; ``None`` in an empty repository."""
        try:
            return str(self._repo.head.commit.hexsha)
        except ValueError:
            return None

    def merge_base(self, a: str, b: str) -> str | None:
        try:
            bases = self._repo.merge_base(a, b)
        except git.GitCommandError as exc:
            raise GateError(f"cannot compute the merge base of {a} and {b}") from exc
        first = bases[0] if bases else None
        return str(first.hexsha) if first is not None else None

    def default_branch(self) -> str | None:
        """The branch merges go into: ``origin/HEAD``'s target, else main/master."""
        try:
            target = self._repo.git.symbolic_ref("--quiet", "refs/remotes/origin/HEAD")
        except git.GitCommandError:
            target = ""
        target = str(target)
        candidates = [target.removeprefix("refs/remotes/")] if target else []
        for ref in (*candidates, *_DEFAULT_BRANCH_CANDIDATES):
            if self.has_commit(ref):
                return ref
        return None

    def hooks_dir(self) -> Path:
        """Where git looks for hooks (honours ``core.hooksPath``)."""
        try:
            path = Path(self._repo.git.rev_parse("--git-path", "hooks"))
        except git.GitCommandError as exc:
            raise GateError(f"cannot find the hooks folder of {self.root}: {exc.stderr.strip()}") from exc
        return path if path.is_absolute() else (self.root / path).resolve()

    # ---- reading -------------------------------------------------------------------
    def project_prefix(self, project_root: Path) -> str:
        """The project's folder relative to the repository root (``""`` at the root)."""
        try:
            rel = project_root.resolve().relative_to(self.root)
        except ValueError as exc:
            raise GateError(f"project {project_root} is not inside the repository {self.root}") from exc
        return "" if str(rel) == "." else rel.as_posix()

    def files(self, sha: str, folder: str, suffix: str) -> dict[str, bytes]:
        """Blobs under ``folder`` (repository-relative) whose names end in ``suffix``."""
        tree = self._commit(sha).tree
        try:
            sub = tree / folder if folder else tree
        except KeyError:
            return {}
        if sub.type != "tree":
            return {}
        out: dict[str, bytes] = {}
        for item in sub.traverse():
            if isinstance(item, git.Blob) and str(item.path).endswith(suffix):
                out[str(item.path)] = item.data_stream.read()
        return dict(sorted(out.items()))

    def file(self, sha: str, path: str) -> bytes | None:
        """One blob of commit ``sha`` (repository-relative path); ``None`` if there is none."""
        try:
            item = self._commit(sha).tree / path
        except KeyError:
            return None
        return item.data_stream.read() if item.type == "blob" else None

    def is_clean(self, paths: Sequence[str]) -> bool:
        """No staged, unstaged or untracked (non-ignored) change under ``paths``."""
        try:
            status = self._repo.git.status("--porcelain", "--untracked-files=all", "--", *paths)
        except git.GitCommandError as exc:
            raise GateError(f"git status failed in {self.root}: {exc.stderr.strip()}") from exc
        return not status.strip()

    @contextmanager
    def exported(self, sha: str) -> Iterator[Path]:
        """The tree of commit ``sha`` in a temporary directory, removed afterwards."""
        commit = self._commit(sha)
        with tempfile.TemporaryDirectory(prefix="sequent-gate-") as tmp:
            dest = Path(tmp) / "tree"
            dest.mkdir()
            with tempfile.TemporaryFile() as archive:
                try:
                    self._repo.archive(archive, treeish=commit.hexsha, format="tar")
                except git.GitCommandError as exc:
                    raise GateError(f"cannot export {sha[:12]}: {exc.stderr.strip()}") from exc
                archive.seek(0)
                with tarfile.open(fileobj=archive) as tar:
                    tar.extractall(dest, filter="data")
            yield dest

    def find(self, ref: str) -> str | None:
        """The commit ``ref`` names, or ``None`` when it names none (a missing branch, an
        empty repository's ``HEAD``)."""
        try:
            return str(self._repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}"))
        except git.GitCommandError:
            return None

    def text(self, sha: str, path: str) -> str | None:
        """One file of commit ``sha`` as text (repository-relative path); ``None`` if there is none."""
        data = self.file(sha, path)
        return data.decode("utf-8", "replace") if data is not None else None

    def changed_paths(self, sha: str) -> list[str]:
        """The paths commit ``sha`` changes against its first parent."""
        try:
            out = self._repo.git.diff_tree("--no-commit-id", "--name-only", "-r", sha)
        except git.GitCommandError as exc:
            raise GateError(f"cannot read the changes of {sha[:12]}: {exc.stderr.strip()}") from exc
        return [p for p in str(out).split("\n") if p]

    def message(self, sha: str) -> str:
        message = self._commit(sha).message
        return message if isinstance(message, str) else message.decode("utf-8", "replace")

    # ---- writing (never the working tree, the index or the checked-out branch) ----------
    def commit_file(self, parent: str, path: str, content: str, message: str, identity: dict[str, str]) -> str:
        """A commit on ``parent`` whose tree is ``parent``'s with ``path`` set to ``content``,
        written through a temporary index; ``identity``: the ``GIT_AUTHOR_*``/``GIT_COMMITTER_*``
        variables. Returns its id; no ref points to it yet."""
        try:
            with tempfile.TemporaryDirectory(prefix="sequent-commit-") as tmp:
                env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **identity}
                blob_file = Path(tmp) / "blob"
                blob_file.write_text(content, encoding="utf-8")
                blob = self._repo.git.hash_object("-w", str(blob_file))
                self._repo.git.read_tree(parent, env=env)
                self._repo.git.update_index("--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
                tree = self._repo.git.write_tree(env=env)
                return str(self._repo.git.commit_tree(tree, "-p", parent, "-m", message, env=env))
        except git.GitCommandError as exc:
            raise GateError(f"git failed while committing {path}: {exc.stderr.strip()}") from exc

    def create_branch(self, branch: str, sha: str) -> bool:
        """Point the new branch ``branch`` at ``sha``; False if the branch exists (a
        compare-and-swap on a missing ref: two writers never overwrite each other)."""
        ref = f"refs/heads/{branch}"
        try:
            self._repo.git.update_ref(ref, sha, ZERO_SHA)
        except git.GitCommandError as exc:
            if self.find(ref) is not None:
                return False
            raise GateError(f"cannot create the branch {branch}: {exc.stderr.strip()}") from exc
        return True

    def _commit(self, sha: str) -> git.Commit:
        try:
            return self._repo.commit(sha)
        except (BadName, BadObject, ValueError) as exc:
            raise GateError(f"unknown git ref {sha!r} in {self.root}") from exc


def repo_path(prefix: str, relative: str) -> str:
    """Join a project prefix and a project-relative path into a repository-relative one."""
    return str(PurePosixPath(prefix, relative)) if prefix else str(PurePosixPath(relative))


__all__ = ["ZERO_SHA", "GitRepository", "repo_path"]
