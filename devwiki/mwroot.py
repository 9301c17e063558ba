"""A Debian root of the *other* stable suite, with its MediaWiki, for the tests.

The host's own ``mediawiki`` package is one LTS (bookworm: 1.39, trixie: 1.43);
the suite is also run against the other one, installed into a Debian root made
with debootstrap and cached outside the repository::

    /var/cache/wiki-login/trixie-root      on a bookworm host (MediaWiki 1.43)
    /var/cache/wiki-login/bookworm-root    on a trixie host   (MediaWiki 1.39)

(``WIKI_LOGIN_CACHE`` moves the cache.)  Building one takes about 4 minutes
and needs root and the Debian mirror the host's apt already uses (read from
/etc/apt/sources.list.d/*.sources or /etc/apt/sources.list).  It is built into
a temporary directory next to its final place and renamed into place only when
complete, under a lock, so concurrent runs build it once and never see half a
root.  A marker file in the root records what it holds.

Nothing is mounted in the host's mount table: debootstrap and the chroot'ed
commands run in a private mount namespace (``unshare --mount``), so whatever
they mount (``/proc``) disappears with them, even when they are killed.

Command line (used by ``make test``)::

    python3 -m devwiki.mwroot            # build when missing, print the root
    python3 -m devwiki.mwroot --rebuild  # build again

Standard library only: it runs before the virtualenv exists.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# The LTS MediaWiki each Debian suite ships.
SUITE_MW_VERSION = {"bookworm": "1.39", "trixie": "1.43"}
OTHER_SUITE = {"bookworm": "trixie", "trixie": "bookworm"}

PHP_PACKAGES = ("php-cli", "php-sqlite3", "php-intl", "php-mbstring", "php-xml")
MW_DIR = "/usr/share/mediawiki"
# Where the harness bind-mounts a wiki's directory and tests/mediawiki inside
# the root (see devwiki/wikiserver.py); created with the root.
MOUNT_POINTS = ("srv/wiki-login/wiki", "srv/wiki-login/mediawiki")
# Bump when the recipe changes: a root with another recipe is rebuilt.
RECIPE = 1
MARKER = "wiki-login-root.json"  # in the root's top directory

OS_RELEASE = Path("/etc/os-release")
APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))


class RootError(RuntimeError):
    """The root could not be built or is not usable."""


def cache_dir() -> Path:
    return Path(os.environ.get("WIKI_LOGIN_CACHE", "/var/cache/wiki-login"))


def host_suite(os_release: Path = OS_RELEASE) -> str:
    """The host's Debian codename (``VERSION_CODENAME`` in /etc/os-release)."""
    try:
        text = os_release.read_text()
    except FileNotFoundError:
        raise RootError(f"{os_release} is missing: not a Debian host?") from None
    match = re.search(r'^VERSION_CODENAME="?([a-z]+)"?\s*$', text, re.M)
    if not match:
        raise RootError(f"no VERSION_CODENAME in {os_release}")
    return match.group(1)


def other_suite(suite: str | None = None) -> str:
    """The suite whose MediaWiki the host does not have: trixie on bookworm and back."""
    suite = suite or host_suite()
    if suite not in OTHER_SUITE:
        raise RootError(f"Debian {suite!r} is neither bookworm nor trixie: no other "
                        f"MediaWiki LTS known for it (known: {', '.join(OTHER_SUITE)})")
    return OTHER_SUITE[suite]


def root_path(suite: str) -> Path:
    return cache_dir() / f"{suite}-root"


# --- the host's mirror ----------------------------------------------------------------

def _apt_entries(sources: tuple[Path, ...] | None = None) -> list[tuple[list[str], list[str]]]:
    """(URIs, suites) of every enabled ``deb`` entry in the host's apt sources."""
    files: list[Path] = []
    for path in sources or APT_SOURCES:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".sources", ".list"))
        elif path.is_file():
            files.append(path)
    entries = []
    for path in files:
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":  # deb822 stanzas
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, str] = {}
                key = None
                for line in stanza.splitlines():
                    if line.startswith("#") or not line.strip():
                        continue
                    if line[0] in " \t" and key:
                        fields[key] += " " + line.strip()
                        continue
                    key, _, value = line.partition(":")
                    key = key.strip().lower()
                    fields[key] = value.strip()
                if ("deb" in fields.get("types", "").split()
                        and fields.get("enabled", "yes").lower() != "no"):
                    entries.append((fields.get("uris", "").split(), fields.get("suites", "").split()))
        else:  # one-line format: deb [options] URI suite components...
            for line in text.splitlines():
                line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
                if len(line) >= 3 and line[0] == "deb":
                    entries.append(([line[1]], [line[2]]))
    return entries


def host_mirror(suite: str | None = None) -> str:
    """The URI the host's apt fetches its own suite from (the main archive, not -security)."""
    suite = suite or host_suite()
    for uris, suites in _apt_entries():
        if suite in suites and uris:
            return uris[0]
    raise RootError(f"no 'deb' entry for suite {suite!r} in {', '.join(map(str, APT_SOURCES))}")


# --- the root -------------------------------------------------------------------------

@dataclass(frozen=True)
class Root:
    """A built root: where it is and which MediaWiki it holds."""

    suite: str
    path: Path
    mw_version: str        # "1.43.3"
    package_version: str   # Debian's, "1:1.43.3+dfsg-1"

    @property
    def mw_branch(self) -> str:
        """``"1.43"``."""
        return ".".join(self.mw_version.split(".")[:2])


def read_marker(path: Path) -> dict | None:
    try:
        return json.loads((path / MARKER).read_text())
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None


def _usable(path: Path, suite: str) -> Root | None:
    marker = read_marker(path)
    if not marker or marker.get("recipe") != RECIPE or marker.get("suite") != suite:
        return None
    if not (path / MW_DIR.lstrip("/") / "maintenance" / "install.php").is_file():
        return None
    for point in MOUNT_POINTS:
        (path / point).mkdir(parents=True, exist_ok=True)
    return Root(suite, path, marker["mw_version"], marker["package_version"])


def ensure_root(suite: str | None = None, *, rebuild: bool = False,
                log=sys.stderr) -> Root:
    """The root of ``suite`` (default: the other suite than the host's), built when missing.

    Cheap when the root is there (one small file read). Otherwise takes the
    lock, builds (about 4 minutes; needs root), and renames it into place.
    """
    suite = suite or other_suite()
    if suite not in SUITE_MW_VERSION:
        raise RootError(f"no MediaWiki known for Debian {suite!r}")
    final = root_path(suite)
    if not rebuild:
        found = _usable(final, suite)
        if found:
            return found
    if os.geteuid() != 0:
        raise RootError(f"{final} is missing and building it needs root: "
                        f"sudo python3 -m devwiki.mwroot")
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f"{suite}-root.lock", "w") as lock:
        if _flock_waits(lock):
            print(f"waiting for another process building {final} ...", file=log, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        # Built by someone else while we waited?
        found = _usable(final, suite)
        if found and not rebuild:
            return found
        _remove_stale_builds(final)
        began = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f"{final.name}.build-", dir=final.parent))
        try:
            tmp.chmod(0o755)  # it becomes the root's "/"
            _build(tmp, suite, log)
            if final.exists():
                old = Path(tempfile.mkdtemp(prefix=f"{final.name}.old-", dir=final.parent))
                os.rename(final, old / "root")
                os.rename(tmp, final)
                _remove_tree(old)
            else:
                os.rename(tmp, final)
        except BaseException:
            _remove_tree(tmp)
            raise
        root = _usable(final, suite)
        if root is None:
            raise RootError(f"{final} was built but is not usable (see {final / MARKER})")
        print(f"built {final}: MediaWiki {root.mw_version} in {time.monotonic() - began:.0f} s",
              file=log, flush=True)
        return root


def _flock_waits(lock) -> bool:
    """Take ``lock`` if free; True when someone else holds it."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True


def _remove_stale_builds(final: Path) -> None:
    """Remove what interrupted builds left (only ever touched under the lock)."""
    for stale in final.parent.glob(f"{final.name}.build-*"):
        _remove_tree(stale)
    for stale in final.parent.glob(f"{final.name}.old-*"):
        _remove_tree(stale)


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()).rstrip("/") + "/"
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if (point + "/").startswith(prefix):
                found.append(point)
    return found


def _remove_tree(path: Path) -> None:
    """rm -rf, but never through a mount point (a build's /proc or /dev must not be deleted)."""
    if not path.exists():
        return
    mounts = _mounts_under(path)
    if mounts:
        raise RootError(f"not removing {path}: mounted inside it: {', '.join(mounts)}")
    shutil.rmtree(path)


def _run(cmd: list[str], log, **kw) -> None:
    print("+ " + shlex.join(cmd), file=log, flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8")
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace", **kw)
    if proc.returncode != 0:
        raise RootError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n"
                        + "\n".join(proc.stdout.splitlines()[-40:]))


def chroot_command(root: Path, command: list[str], *, proc: bool = True) -> list[str]:
    """``command`` run chrooted into ``root`` inside a private mount namespace.

    With ``proc``, /proc is mounted in the root for the command's lifetime
    only: the namespace, and with it the mount, ends with its last process.
    """
    script = 'set -e; mount -t proc proc "$0/proc"; exec chroot "$0" "$@"' if proc else \
        'exec chroot "$0" "$@"'
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script,
            str(root), *command]


def _ensure_debootstrap(log) -> None:
    if shutil.which("debootstrap"):
        return
    print("installing debootstrap (apt-get) ...", file=log, flush=True)
    _run(["apt-get", "update", "-qq"], log)
    _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "debootstrap"], log)


def _build(target: Path, suite: str, log) -> None:
    """debootstrap ``suite`` into ``target`` with PHP, then install its mediawiki package."""
    _ensure_debootstrap(log)
    mirror = host_mirror()
    print(f"building a Debian {suite} root with MediaWiki {SUITE_MW_VERSION[suite]} in "
          f"{target} from {mirror} (about 4 minutes) ...", file=log, flush=True)
    # debootstrap mounts /proc and /sys in the target while it works; in a
    # private namespace those mounts can never outlive it.
    _run(["unshare", "--mount", "--propagation", "private", "--",
          "debootstrap", "--variant=minbase", "--include=" + ",".join(PHP_PACKAGES),
          suite, str(target), mirror], log)
    # Without --no-install-recommends apt would also pull a MySQL server.
    _run(chroot_command(target, ["apt-get", "install", "-y", "-q", "--no-install-recommends",
                                 "mediawiki"]), log)
    _run(chroot_command(target, ["apt-get", "clean"]), log)
    for name, (major, minor) in (("null", (1, 3)), ("zero", (1, 5)), ("random", (1, 8)),
                                 ("urandom", (1, 9))):
        node = target / "dev" / name
        if not node.exists():  # debootstrap makes them; a container may not let it
            os.mknod(node, 0o666 | 0o020000, os.makedev(major, minor))
    mw_version = _defines_version(target / MW_DIR.lstrip("/") / "includes" / "Defines.php")
    expected = SUITE_MW_VERSION[suite]
    if not (mw_version + ".").startswith(expected + "."):
        raise RootError(f"{suite}'s mediawiki is {mw_version}, expected {expected}.x")
    package_version = subprocess.run(
        ["chroot", str(target), "dpkg-query", "-W", "-f", "${Version}", "mediawiki"],
        capture_output=True, text=True, check=True).stdout.strip()
    for point in MOUNT_POINTS:
        (target / point).mkdir(parents=True, exist_ok=True)
    marker = {"recipe": RECIPE, "suite": suite, "mw_version": mw_version,
              "package_version": package_version, "mirror": mirror,
              "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (target / MARKER).write_text(json.dumps(marker, indent=2) + "\n")


def _defines_version(defines: Path) -> str:
    match = re.search(r"define\(\s*'MW_VERSION',\s*'([^']+)'", defines.read_text())
    if not match:
        raise RootError(f"no MW_VERSION in {defines}")
    return match.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m devwiki.mwroot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", help="bookworm or trixie (default: the other one than the host)")
    parser.add_argument("--rebuild", action="store_true", help="build again even if present")
    args = parser.parse_args(argv)
    try:
        root = ensure_root(args.suite, rebuild=args.rebuild)
    except RootError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{root.path}: Debian {root.suite}, MediaWiki {root.mw_version} "
          f"(package {root.package_version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
