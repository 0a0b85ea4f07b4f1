"""EnvironmentStore: create from sources, fork, list paging, delete, materialize (§3.7, §8, §9)."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from workbench.engine.sandbox import EnvironmentStore, InvalidRequest, NotFound, materialize
from workbench.engine.sandbox.network import parse_network
from workbench.protocol import EnvironmentConfig, InlineSource


async def test_create_inline_sources_and_wire_resource(store: EnvironmentStore) -> None:
    rec = await store.create(
        sources=[
            {"type": "INLINE", "target": "/.agents/AGENTS.md", "content": "Be brief."},
            InlineSource(
                target="workspace/logo.png",
                content=base64.b64encode(b"\x89PNG").decode(),
                encoding="base64",
            ),
        ],
        network={"allowlist": [{"domain": "pypi.org"}]},
    )
    root = store.root(rec.id)
    assert (root / ".agents/AGENTS.md").read_text() == "Be brief."
    assert (root / "workspace/logo.png").read_bytes() == b"\x89PNG"
    wire = (await store.to_wire(rec)).to_wire()
    assert wire["id"] == wire["environment_id"] == rec.id
    assert wire["type"] == "remote" and wire["status"] == "active"
    assert wire["file_count"] == "2" and wire["size_bytes"] == str(len("Be brief.") + 4)
    assert wire["sources"][0]["type"] == "inline"  # emitted lower case (§13 Q21)
    assert wire["network"] == {"allowlist": [{"domain": "pypi.org"}]}
    assert wire["created"].endswith("Z")
    meta = json.loads((store.folder(rec.id) / "environment.json").read_text())
    assert meta["id"] == rec.id


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"type": "inline", "target": "/", "content": "x"}, "must not be '/'"),
        ({"type": "inline", "target": ".", "content": "x"}, "must not be '/'"),
        ({"type": "inline", "target": "../x", "content": "x"}, ".."),
        ({"type": "inline", "content": "x"}, "needs a target"),
        (
            {"type": "inline", "target": "a", "content": "!!", "encoding": "base64"},
            "not valid base64",
        ),
        ({"type": "inline", "target": "a", "content": "x" * (1024 * 1024 + 1)}, "over 1 MiB"),
        ({"type": "gcs", "source": "gs://bucket/p/", "target": "data"}, "gs://bucket/p/"),
        (
            {
                "type": "skill_registry",
                "source": "projects/p/locations/l/skills/s/revisions/1",
                "target": ".agents/skills",
            },
            "skill_registry",
        ),
        ({"type": "file", "source": "x", "target": "y"}, "'file' is not supported"),
        ({"type": "repository", "source": "ssh://git@host/repo", "target": "r"}, "not supported"),
        ({"type": "repository", "source": "/does/not/exist", "target": "r"}, "not a local folder"),
    ],
)
async def test_bad_sources_are_refused_clearly(
    store: EnvironmentStore, source: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        await store.create(sources=[source])
    assert message in err.value.message
    assert err.value.http_status == 400
    assert (await store.list())[0] == []  # nothing half-made is left


async def test_inline_request_limit(store: EnvironmentStore) -> None:
    big = "x" * (900 * 1024)
    with pytest.raises(InvalidRequest, match="2 MiB"):
        await store.create(
            sources=[{"type": "inline", "target": f"f{i}", "content": big} for i in range(3)]
        )


def _git_repo(repo: Path) -> None:
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "main.py").write_text("print(1)\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)


async def test_repository_from_local_git(store: EnvironmentStore, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _git_repo(repo)
    rec = await store.create(
        sources=[{"type": "repository", "source": str(repo), "target": "/workspace/spoon"}]
    )
    assert (store.root(rec.id) / "workspace/spoon/main.py").read_text() == "print(1)\n"
    rec2 = await store.create(sources=[{"type": "repository", "source": f"file://{repo}"}])
    assert (store.root(rec2.id) / "repo/main.py").exists()


async def test_repository_url_needs_network(store: EnvironmentStore) -> None:
    with pytest.raises(InvalidRequest, match="network access is disabled"):
        await store.create(
            sources=[
                {
                    "type": "repository",
                    "source": "https://github.com/octocat/Spoon-Knife",
                    "target": "s",
                }
            ]
        )


async def test_repository_url_unreachable(store: EnvironmentStore) -> None:
    src = {"type": "repository", "source": "http://127.0.0.1:9/nothing.git", "target": "s"}
    with pytest.raises(InvalidRequest, match="could not be cloned"):
        await store.create(sources=[src], network={"allowlist": [{"domain": "127.0.0.1"}]})
    assert (await store.list())[0] == []


async def test_fork_copies_files_and_keeps_links(store: EnvironmentStore) -> None:
    rec = await store.create(sources=[{"type": "inline", "target": "a/b.txt", "content": "hi"}])
    root = store.root(rec.id)
    (root / "link").symlink_to("a/b.txt")
    fork = await store.create(from_environment=f"environments/{rec.id}")
    froot = store.root(fork.id)
    assert (froot / "a/b.txt").read_text() == "hi"
    assert (froot / "link").is_symlink()
    (froot / "a/b.txt").write_text("changed")
    assert (root / "a/b.txt").read_text() == "hi"
    assert fork.forked_from == rec.id and fork.sources == rec.sources
    with pytest.raises(InvalidRequest):
        await store.create(
            from_environment=rec.id, sources=[{"type": "inline", "target": "x", "content": ""}]
        )
    with pytest.raises(NotFound):
        await store.create(from_environment="env_missing")


async def test_list_paging(store: EnvironmentStore) -> None:
    ids = [(await store.create()).id for _ in range(7)]
    seen: list[str] = []
    token = None
    while True:
        page, token = await store.list(page_size=3, page_token=token)
        assert len(page) <= 3
        seen += [r.id for r in page]
        if token is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 7
    assert seen[0] == ids[-1]  # newest first
    with pytest.raises(InvalidRequest):
        await store.list(page_token="garbage!")
    page, token = await store.list(page_size=5000)
    assert len(page) == 7 and token is None


async def test_get_delete(store: EnvironmentStore) -> None:
    rec = await store.create(sources=[{"type": "inline", "target": "x", "content": "1"}])
    assert (await store.get(rec.id)).id == rec.id
    assert (await store.get(f"environments/{rec.id}")).id == rec.id
    await store.delete(rec.id)
    assert not store.folder(rec.id).exists()
    with pytest.raises(NotFound):
        await store.get(rec.id)
    with pytest.raises(NotFound):
        await store.delete(rec.id)
    for bad in ("../x", "a/b", "", "env_ü"):
        with pytest.raises(InvalidRequest):
            await store.get(bad)


async def test_env_values_and_credential_references(store: EnvironmentStore) -> None:
    rec = await store.create(env={"LOG_LEVEL": "debug", "X": {"value": "1"}})
    assert rec.env == {"LOG_LEVEL": "debug", "X": "1"}
    # A credential is kept as its reference (resolved from the keyring when code runs).
    ref = await store.create(env={"GH_TOKEN": {"credential": "cred_1"}})
    assert ref.env == {"GH_TOKEN": {"credential": "cred_1"}}
    for bad in ({"credential": ""}, {"credential": 5}, {"credential": "c", "value": "v"}):
        with pytest.raises(InvalidRequest, match="credential"):
            await store.create(env={"GH_TOKEN": bad})


async def test_network_validation_and_policy(store: EnvironmentStore) -> None:
    for bad in ("enabled", {"allowlist": "open"}, {"allowlist": [{"domain": "a*b"}]}, 5):
        with pytest.raises(InvalidRequest):
            await store.create(network=bad)
    assert parse_network(None).mode == "disabled"  # engine default (docs/reliability.md)
    assert parse_network("disabled").mode == "disabled"
    assert parse_network({"allowlist": "disabled"}).mode == "disabled"
    assert parse_network({"allowlist": []}).mode == "disabled"
    star = parse_network({"allowlist": [{"domain": "*"}]})
    assert star.mode == "all" and star.code_network and star.allows_host("anything.net")
    sub = parse_network({"allowlist": [{"domain": "*.example.com"}, {"domain": "PyPI.org"}]})
    assert not sub.code_network
    assert sub.allows_host("a.example.com") and sub.allows_host("x.y.example.com")
    assert not sub.allows_host("example.com")  # the apex is not matched
    assert not sub.allows_host("badexample.com")
    assert sub.allows_host("pypi.org") and not sub.allows_host("files.pypi.org")


async def test_materialize(store: EnvironmentStore) -> None:
    fresh = await materialize(store, "remote")
    assert fresh.sources == []
    reused = await materialize(store, fresh.id)
    assert reused.id == fresh.id
    with pytest.raises(NotFound):
        await materialize(store, "env_nope")
    base = {
        "type": "remote",
        "sources": [{"type": "inline", "target": ".agents/AGENTS.md", "content": "base"}],
        "network": {"allowlist": [{"domain": "pypi.org"}]},
    }
    one = await materialize(store, "remote", base=base)
    two = await materialize(store, None, base=EnvironmentConfig.model_validate(base))
    assert one.id != two.id  # every invocation starts clean
    assert (store.root(one.id) / ".agents/AGENTS.md").read_text() == "base"
    # a per-call network replaces the saved rules, sources stay
    three = await materialize(store, {"type": "remote", "network": "disabled"}, base=base)
    assert three.network == "disabled"
    assert (store.root(three.id) / ".agents/AGENTS.md").exists()
    # base given as an environment id: forked
    four = await materialize(store, "remote", base=one.id)
    assert four.forked_from == one.id
    # a config with environment_id updates that environment in place
    upd = await materialize(
        store,
        {
            "environment_id": one.id,
            "sources": [{"type": "inline", "target": "new.txt", "content": "n"}],
        },
    )
    assert upd.id == one.id and (store.root(one.id) / "new.txt").read_text() == "n"
    assert len(upd.sources) == 2


async def test_concurrent_creates_and_deletes(store: EnvironmentStore) -> None:
    import asyncio

    recs = await asyncio.gather(
        *(
            store.create(sources=[{"type": "inline", "target": "f", "content": str(i)}])
            for i in range(10)
        )
    )
    await asyncio.gather(
        *(store.delete(r.id) for r in recs[:5]), *(store.touch(r.id) for r in recs[5:])
    )
    page, _ = await store.list()
    assert {r.id for r in page} == {r.id for r in recs[5:]}
