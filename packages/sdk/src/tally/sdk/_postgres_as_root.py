"""What running the embedded PostgreSQL as root takes: a system user, and places it can reach.

PostgreSQL refuses to run as root, so for root it runs as the system user `pgserver` (pgserver's
own choice of name, so both share one user on a machine). That user must reach its binaries and
its data, and neither may depend on the folders of whoever runs tally: those may be private
(root's home, a folder made by `mktemp -d`: mode 0700), and tally never opens them up. So:

- the binaries are copied once into a root-owned, world-readable cache named by the installed
  files (`/var/cache/tally/pgserver-<digest>`);
- a cluster's data lives in `/var/lib/tally/postgres/<id>/data`, owned by the system user. The
  state folder's `postgres/data` is a symbolic link to it, through which a later process finds
  it; the cluster records where that link is, and once the link is gone (its state folder was
  removed) the cluster is removed at the next start of any embedded PostgreSQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from tally.sdk._errors import InfrastructureError
from tally.sdk._server_process import pid_alive

SYSTEM_USER = "pgserver"
_CACHE = Path("/var/cache/tally")
_CLUSTERS = Path("/var/lib/tally/postgres")
# The wheel's folders the server needs: its install tree and the libraries its binaries load
# through their run path ($ORIGIN/../../../pgserver.libs).
_WHEEL_PARTS = ("pgserver/pginstall", "pgserver.libs")
_LINK_RECORD = "state"


def system_user() -> str | None:
    """The user to run PostgreSQL as: None (ourselves) unless we are root, which it refuses."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        create = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        done = subprocess.run([*create, SYSTEM_USER], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise InfrastructureError(
                f"PostgreSQL does not run as root and creating the system user {SYSTEM_USER!r} "
                f"failed: {done.stderr.strip()}; run as an ordinary user instead"
            ) from None
    return SYSTEM_USER


def reachable_install(site: Path) -> Path:
    """A copy of the wheel's server files under `site` that every user can reach.

    Made once per distinct set of files (named by their paths, sizes and times) and never
    changed after: it is built beside its final name and renamed into place in one step.
    """
    digest = hashlib.sha256()
    for part in _WHEEL_PARTS:
        for path in sorted((site / part).rglob("*")):
            info = path.lstat()
            digest.update(
                f"{path.relative_to(site)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode()
            )
    target = _CACHE / f"pgserver-{digest.hexdigest()[:20]}"
    if target.is_dir():
        return target
    _root_folder(_CACHE)
    partial = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=_CACHE))
    try:
        for part in _WHEEL_PARTS:
            shutil.copytree(site / part, partial / part, symlinks=True)
        _open_to_all(partial)
        with contextlib.suppress(FileExistsError, OSError):
            partial.rename(target)  # another process may have been quicker: then use its copy
    except OSError as error:
        raise InfrastructureError(f"cannot copy PostgreSQL's files to {target}: {error}") from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    if not target.is_dir():
        raise InfrastructureError(f"cannot install PostgreSQL's files at {target}")
    return target


def cluster_data(link: Path, user: str) -> Path:
    """The data folder behind `link` (the state folder's `postgres/data`), made if need be."""
    if link.is_symlink():
        data = Path(os.readlink(link))
    else:
        data = _CLUSTERS / secrets.token_hex(8) / "data"
        # The link comes first: a cluster whose link is missing would be swept as abandoned.
        link.symlink_to(data)
    _root_folder(_CLUSTERS)
    _root_folder(data.parent)
    (data.parent / _LINK_RECORD).write_text(str(link))
    if not data.exists():
        data.mkdir(mode=0o700)
        account = pwd.getpwnam(user)
        os.chown(data, account.pw_uid, account.pw_gid)
    return data


def remove_cluster(link: Path) -> None:
    """Remove the cluster behind `link`, and the link (its server must be stopped)."""
    if link.is_symlink():
        shutil.rmtree(Path(os.readlink(link)).parent, ignore_errors=True)
        link.unlink()


def sweep_clusters() -> None:
    """Remove the clusters whose state folder is gone, unless their server still runs."""
    if not _CLUSTERS.is_dir():
        return
    for cluster in _CLUSTERS.iterdir():
        try:
            link = Path((cluster / _LINK_RECORD).read_text())
        except OSError:
            continue  # not made by us, or being made right now
        data = cluster / "data"
        with contextlib.suppress(OSError):
            if Path(os.readlink(link)) == data:
                continue
        if not _server_runs(data):
            shutil.rmtree(cluster, ignore_errors=True)


def _server_runs(data: Path) -> bool:
    try:
        return pid_alive(int((data / "postmaster.pid").read_text().split()[0]))
    except (OSError, ValueError, IndexError):
        return False


def _root_folder(folder: Path) -> None:
    """Make `folder` of tally's (and its missing parents) root's, mode 0755; refuse one that
    others could write to."""
    if not folder.exists():
        if not folder.parent.exists():
            _root_folder(folder.parent)
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
    info = folder.stat()
    if info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise InfrastructureError(
            f"{folder} must belong to root and be writable by root alone, as PostgreSQL's "
            f"files are kept there; it is owned by uid {info.st_uid}, mode "
            f"{stat.S_IMODE(info.st_mode):o}"
        )
    folder.chmod(0o755)  # whatever the umask made of it: the system user must pass through


def _open_to_all(tree: Path) -> None:
    """Let every user read `tree`, enter its folders and run what its owner may run."""
    for path in [tree, *tree.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        executable = path.is_dir() or mode & stat.S_IXUSR
        extra = stat.S_IRGRP | stat.S_IROTH
        if executable:
            extra |= stat.S_IXGRP | stat.S_IXOTH
        path.chmod(stat.S_IMODE(mode) | extra)
