#!/usr/bin/env bash
# Create .venv-acapy: ACA-Py in its own virtualenv, because its pinned dependencies
# (pydantic, aiohttp, pyld, ...) conflict with the project's .venv.
# Usage: scripts/acapy_venv.sh [--force]   (idempotent: does nothing when the venv already works)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WORKCRED_ACAPY_VENV:-$ROOT/.venv-acapy}"
VERSION="${WORKCRED_ACAPY_VERSION:-1.7.0}"

if [[ "${1:-}" == "--force" ]]; then
  rm -rf "$VENV"
fi

if [[ -x "$VENV/bin/aca-py" ]] && "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('acapy-agent') == '$VERSION'" 2>/dev/null; then
  echo "acapy: $VENV has acapy-agent $VERSION"
  exit 0
fi

PYENV_VERSION=3.13.0 python3.13 -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
# askar (wallet) and the did/indy extras are regular dependencies of acapy-agent 1.x
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "acapy-agent==$VERSION"
"$VENV/bin/aca-py" --version
