"""The installed `royalty-oracle` works outside a checkout, and no service imports dev tooling.

The console script runs from an empty temporary directory (nothing of the repository in its
working directory) with only PYTHONPATH naming the code under test, against a real Anvil.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from royalty_chain.client import Chain

CODE = Path(__file__).resolve().parents[3]
SCRIPT = Path(sys.executable).parent / "royalty-oracle"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORACLE_", "API_", "ROYALTY_"))}
    env["PYTHONPATH"] = str(CODE)
    env.update(extra)
    return env


def test_services_do_not_import_dev_tooling(tmp_path: Path) -> None:
    probe = (
        "import sys, json; import oracle.cli, oracle.settings, oracle.service, api.app, api.services;"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('royalty_chain.dev'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []


@pytest.mark.skipif(not SCRIPT.exists(), reason="the royalty-oracle console script is not installed")
def test_console_script_runs_outside_a_checkout(chain: Chain, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    manifest = tmp_path / "manifest.json"
    chain.manifest.save(manifest)
    env = _env(
        tmp_path,
        ORACLE_RPC_URL=chain.transport.url,
        ORACLE_MANIFEST=str(manifest),
        ORACLE_DATA_DIR=str(work / "data"),
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args], cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    helped = run("--help")
    assert helped.returncode == 0, helped.stderr
    assert "close-period" in helped.stdout
    sent = run("send")  # connects, reads the manifest and the chain, finds nothing to send
    assert sent.returncode == 0, sent.stdout + sent.stderr
    status = run("status")
    assert status.returncode == 0, status.stderr
    assert (work / "data" / "oracle" / "outbox.sqlite").is_file()  # the outbox lives in the data dir
    assert "Reports" in status.stdout
