"""Development chains find the checkout they need explicitly, and say so when it is not there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CODE = Path(__file__).resolve().parents[3]


def test_the_checkout_is_found_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    probe = (
        "from pathlib import Path\n"
        "from royalty_chain.dev import devnet\n"
        "print(devnet.ROOT)\n"
        "try:\n"
        "    devnet.deploy('http://127.0.0.1:9', Path('m.json'))\n"
        "except devnet.DevnetError as err:\n"
        "    print(err)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(CODE)}
    default = subprocess.run(
        [sys.executable, "-c", probe.split("try:")[0]],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        check=True,
    )
    assert default.stdout.strip() == str(CODE)  # the checkout this package sits in
    env["ROYALTY_PROJECT_ROOT"] = str(tmp_path)
    elsewhere = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, text=True, capture_output=True, check=True
    )
    assert elsewhere.stdout.splitlines() == [
        str(tmp_path),
        f"{tmp_path} is not the project checkout: set ROYALTY_PROJECT_ROOT",
    ]
