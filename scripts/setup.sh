#!/usr/bin/env bash
# Idempotent set-up of everything the project needs, from the three registries only:
# npm chain tools (anvil, forge, cast, ganache, solc-js, OpenZeppelin, forge-std), the Python
# virtualenv pinned by requirements.lock, and solc-js installed as a native-looking `solc` for
# py-solc-x / ape-solidity. Quick when nothing changed (stamp files under .build/stamps).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAMPS=.build/stamps
mkdir -p "$STAMPS"
PYTHON=${PYTHON:-python3}

newer() { # newer TARGET SOURCES... : true when TARGET is missing or older than a source
  local target=$1; shift
  [ -e "$target" ] || return 0
  for src in "$@"; do [ "$src" -nt "$target" ] && return 0; done
  return 1
}

if newer "$STAMPS/npm" package.json package-lock.json || [ ! -x node_modules/.bin/anvil ]; then
  echo "setup: installing chain tools from npm (package-lock.json)"
  # npm ci refuses a lock without the other platforms' optional Foundry binaries, which npm
  # here leaves out; npm install with the lock present installs exactly the locked versions.
  npm install --no-audit --no-fund --loglevel=error
  touch "$STAMPS/npm"
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
  .venv/bin/pip install --quiet --upgrade "pip>=24"
fi
if newer "$STAMPS/python" pyproject.toml requirements.lock; then
  echo "setup: installing Python packages (requirements.lock)"
  .venv/bin/pip install --quiet -c requirements.lock -e ".[dev]"
  touch "$STAMPS/python"
fi

# solc-js as `solc-v<version>` where py-solc-x (and so ape-solidity) looks for installed compilers.
SOLC_VERSION=$(node -e 'console.log(require("solc/package.json").version)')
SOLCX_DIR=$(.venv/bin/python -c 'import solcx; print(solcx.get_solcx_install_folder())')
mkdir -p "$SOLCX_DIR"
if [ "$(readlink "$SOLCX_DIR/solc-v$SOLC_VERSION" 2>/dev/null)" != "$ROOT/tools/solc.js" ]; then
  ln -sfn "$ROOT/tools/solc.js" "$SOLCX_DIR/solc-v$SOLC_VERSION"
  echo "setup: solc-js $SOLC_VERSION installed as $SOLCX_DIR/solc-v$SOLC_VERSION"
fi

# Headless Chromium (Debian's package) for the dashboard's browser tests and screenshots.
if [ -z "${SKIP_BROWSER:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium for the dashboard tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: chromium is missing and cannot be installed here (not root or no apt-get):"
    echo "       install Debian's 'chromium' package for the dashboard tests"
  fi
fi

# PostgreSQL (Debian's package) so the index is also tested on PostgreSQL, not only SQLite.
if [ -z "${SKIP_POSTGRES:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's postgresql for the index tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "setup: PostgreSQL is missing and cannot be installed here: its index test will be skipped"
  fi
fi
