"""`make run` deploys only when no deployment is on record, and never replaces one by itself.

scripts/_devstack.py's deployment step against real Anvils: the first run deploys; the next
recognises the deployment by its code; on a chain that does not hold the recorded deployment it
stops, deploys nothing and names `make redeploy`; `make redeploy` (--redeploy) deploys afresh,
keeps the old manifest byte for byte and moves the old deployment's off-chain state aside.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from royalty_chain.deployments import Deployments
from royalty_chain.dev.devnet import start_anvil
from royalty_chain.manifest import Manifest
from royalty_chain.transport import Transport

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

import _devstack  # noqa: E402


def test_make_run_never_replaces_a_deployment_and_make_redeploy_keeps_the_old_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_devstack, "DATA", tmp_path)
    output = io.StringIO()
    monkeypatch.setattr(_devstack, "console", Console(file=output, width=400))
    pointer = tmp_path / "deployments" / "31337.json"

    first_chain = start_anvil()
    try:
        manifest_file, manifest = _devstack._deployment(first_chain.url, 31337, redeploy=False)  # a first run
        assert manifest_file == pointer
        (first,) = Deployments(pointer).records()
        recorded = first.read_bytes()
        assert _devstack._deployment(first_chain.url, 31337, redeploy=False) == (pointer, manifest)
        assert Deployments(pointer).records() == [first]
    finally:
        first_chain.stop()
    (tmp_path / "oracle" / "inbox").mkdir(parents=True)
    (tmp_path / "oracle" / "outbox.sqlite").write_text("the first deployment's outbox")
    (tmp_path / "index.sqlite").write_text("the first deployment's index")

    other_chain = start_anvil()  # a new chain: the recorded deployment is not on it
    try:
        with pytest.raises(SystemExit) as stopped:
            _devstack._deployment(other_chain.url, 31337, redeploy=False)
        assert stopped.value.code == 1
        said = " ".join(output.getvalue().split())
        assert f"the deployment recorded in {first} is not on this chain" in said
        assert f"LicenceRegistry at {manifest.registry.address} has no code" in said
        assert "Nothing was deployed: `make run` never replaces a deployment" in said
        assert "`make redeploy` deploys afresh" in said
        assert Deployments(pointer).records() == [first]
        assert _code(other_chain.url, manifest.registry.address) == "0x"
        assert (tmp_path / "oracle" / "outbox.sqlite").exists()  # nothing moved either

        _, fresh = _devstack._deployment(other_chain.url, 31337, redeploy=True)  # make redeploy
    finally:
        other_chain.stop()
    records = Deployments(pointer).records()
    assert records[0] == first and first.read_bytes() == recorded
    assert len(records) == 2 and pointer.resolve() == records[1]
    assert Manifest.load(pointer) == fresh
    (archive,) = (tmp_path / "archive").iterdir()
    assert archive.name.startswith(first.stem)
    assert (archive / "oracle" / "outbox.sqlite").read_text() == "the first deployment's outbox"
    assert (archive / "index.sqlite").read_text() == "the first deployment's index"
    assert not (tmp_path / "oracle").exists() and not (tmp_path / "index.sqlite").exists()


def _code(url: str, address: str) -> str:
    transport = Transport(url)
    try:
        return str(transport.call("eth_getCode", address, "latest"))
    finally:
        transport.close()
