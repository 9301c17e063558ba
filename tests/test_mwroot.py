"""devwiki/mwroot.py without building anything: which suite, which mirror, and the cache's rules."""
from __future__ import annotations

import json

import pytest

from devwiki import mwroot


def os_release(tmp_path, text):
    path = tmp_path / "os-release"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,suite", [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n', "bookworm"),
    ('VERSION_ID="13"\nVERSION_CODENAME="trixie"\n', "trixie"),
])
def test_the_host_suite_comes_from_os_release(tmp_path, text, suite):
    assert mwroot.host_suite(os_release(tmp_path, text)) == suite


def test_no_codename_is_an_error(tmp_path):
    with pytest.raises(mwroot.RootError, match="VERSION_CODENAME"):
        mwroot.host_suite(os_release(tmp_path, 'ID=debian\n'))
    with pytest.raises(mwroot.RootError, match="missing"):
        mwroot.host_suite(tmp_path / "nothing")


def test_the_other_suite_and_its_mediawiki():
    assert mwroot.other_suite("bookworm") == "trixie"
    assert mwroot.other_suite("trixie") == "bookworm"
    assert mwroot.SUITE_MW_VERSION == {"bookworm": "1.39", "trixie": "1.43"}
    with pytest.raises(mwroot.RootError, match="neither bookworm nor trixie"):
        mwroot.other_suite("bullseye")


def test_the_mirror_comes_from_the_hosts_deb822_sources(tmp_path, monkeypatch):
    sources = tmp_path / "sources.list.d"
    sources.mkdir()
    (sources / "debian.sources").write_text(
        "Types: deb\n"
        "# a comment\n"
        "URIs: http://mirror.invalid/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
        "\n"
        "Types: deb\n"
        "URIs: http://mirror.invalid/debian-security\n"
        "Suites: bookworm-security\n"
        "Components: main\n"
    )
    (sources / "off.sources").write_text(
        "Types: deb\nURIs: http://disabled.invalid/debian\nSuites: bookworm\nEnabled: no\n")
    monkeypatch.setattr(mwroot, "APT_SOURCES", (sources, tmp_path / "sources.list"))
    assert mwroot.host_mirror("bookworm") == "http://mirror.invalid/debian"


def test_the_mirror_comes_from_a_one_line_sources_list(tmp_path, monkeypatch):
    listing = tmp_path / "sources.list"
    listing.write_text(
        "# deb http://commented.invalid/debian trixie main\n"
        "deb-src http://source.invalid/debian trixie main\n"
        "deb http://security.invalid/debian-security trixie-security main\n"
        "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.invalid/debian trixie main\n"
    )
    monkeypatch.setattr(mwroot, "APT_SOURCES", (tmp_path / "none.d", listing))
    assert mwroot.host_mirror("trixie") == "http://mirror.invalid/debian"


def test_no_mirror_for_the_suite_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(mwroot, "APT_SOURCES", (tmp_path / "none.d", tmp_path / "none.list"))
    with pytest.raises(mwroot.RootError, match="no 'deb' entry"):
        mwroot.host_mirror("bookworm")


def fake_root(path, **marker):
    (path / "usr/share/mediawiki/maintenance").mkdir(parents=True)
    (path / "usr/share/mediawiki/maintenance/install.php").write_text("<?php\n")
    marker = {"recipe": mwroot.RECIPE, "suite": "trixie", "mw_version": "1.43.9",
              "package_version": "1:1.43.9+dfsg-1", **marker}
    (path / mwroot.MARKER).write_text(json.dumps(marker))


def test_a_built_root_is_used_without_building(tmp_path, monkeypatch):
    monkeypatch.setenv("WIKI_LOGIN_CACHE", str(tmp_path))
    fake_root(tmp_path / "trixie-root")
    monkeypatch.setattr(mwroot, "_build", lambda *a: pytest.fail("built again"))
    root = mwroot.ensure_root("trixie")
    assert (root.path, root.mw_version, root.mw_branch) == (tmp_path / "trixie-root", "1.43.9", "1.43")
    for point in mwroot.MOUNT_POINTS:
        assert (root.path / point).is_dir()


@pytest.mark.parametrize("marker", [{"recipe": mwroot.RECIPE - 1}, {"suite": "bookworm"}])
def test_a_root_of_another_recipe_or_suite_is_built_again_and_swapped_in(tmp_path, monkeypatch, marker):
    monkeypatch.setenv("WIKI_LOGIN_CACHE", str(tmp_path))
    monkeypatch.setattr(mwroot.os, "geteuid", lambda: 0)
    fake_root(tmp_path / "trixie-root", **marker)
    (tmp_path / "trixie-root" / "old-file").write_text("old")
    (tmp_path / "trixie-root.build-leftover").mkdir()  # an interrupted build

    def build(target, suite, log):
        assert suite == "trixie" and target.parent == tmp_path and target.name.startswith("trixie-root.build-")
        fake_root(target)

    monkeypatch.setattr(mwroot, "_build", build)
    root = mwroot.ensure_root("trixie")
    assert root.mw_version == "1.43.9"
    assert not (root.path / "old-file").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trixie-root", "trixie-root.lock"]


def test_a_failed_build_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("WIKI_LOGIN_CACHE", str(tmp_path))
    monkeypatch.setattr(mwroot.os, "geteuid", lambda: 0)

    def build(target, suite, log):
        (target / "half").write_text("x")
        raise mwroot.RootError("the mirror went away")

    monkeypatch.setattr(mwroot, "_build", build)
    with pytest.raises(mwroot.RootError, match="the mirror went away"):
        mwroot.ensure_root("trixie")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trixie-root.lock"]


def test_building_needs_root(tmp_path, monkeypatch):
    monkeypatch.setenv("WIKI_LOGIN_CACHE", str(tmp_path))
    monkeypatch.setattr(mwroot.os, "geteuid", lambda: 1000)
    with pytest.raises(mwroot.RootError, match="needs root"):
        mwroot.ensure_root("trixie")


def test_chroot_commands_mount_proc_only_in_their_own_namespace(tmp_path):
    cmd = mwroot.chroot_command(tmp_path, ["apt-get", "clean"])
    assert cmd[:5] == ["unshare", "--mount", "--propagation", "private", "--"]
    assert cmd[-3:] == [str(tmp_path), "apt-get", "clean"]
    assert 'mount -t proc proc "$0/proc"' in cmd[7]
