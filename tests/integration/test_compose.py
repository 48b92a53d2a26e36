"""docker-compose.yml and the Dockerfile (issue 12 item 1): `docker compose config` accepts the file with
every profile once each required value is set, and refuses it while one is missing (no default secret
works); the roles run their production commands, non-root, with health checks. No engine is needed
to validate: CI installs Debian's compose client (.ci/run)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, require

PROFILES = ["--profile", "anchoring", "--profile", "besu", "--profile", "didcomm"]


def _compose() -> list[str]:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    require("COMPOSE", "no compose client (`docker compose` or Debian's docker-compose) is installed")


def _env_file(tmp: Path, **override: str) -> Path:
    """deploy/env.example with every value filled in (as an operator would)."""
    lines = []
    for line in (ROOT / "deploy" / "env.example").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        value = override.get(key, value or ("https://" + key.lower().replace("_", "-") + ".example.go.kr" if key.endswith("_URL") else "x" * 48))
        lines.append(f"{key}={value}")
    path = tmp / ".env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _config(env_file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [*_compose(), "--env-file", str(env_file), "-f", str(ROOT / "docker-compose.yml"), *PROFILES, "config", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_compose_config_validates(tmp_path: Path) -> None:
    done = _config(_env_file(tmp_path), "-q")
    assert done.returncode == 0, done.stderr
    services = _config(_env_file(tmp_path), "--services").stdout.split()
    assert set(services) == {"postgres", "registry", "issuer", "wallet", "verifier", "anvil", "besu", "acapy"}


@pytest.mark.parametrize("missing", ["WORKCRED_SECRET_KEY", "POSTGRES_PASSWORD", "WORKCRED_ISSUER_MASTER_KEY", "WORKCRED_REGISTRY_KEY"])
def test_a_missing_secret_refuses_to_configure(tmp_path: Path, missing: str) -> None:
    done = _config(_env_file(tmp_path, **{missing: ""}), "-q")
    assert done.returncode != 0
    assert missing in done.stderr


def test_roles_run_their_production_commands() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    for role, app in (("registry", "registry.app"), ("issuer", "issuer.app"), ("wallet", "holder_wallet.app"), ("verifier", "verifier.asgi")):
        command = " ".join(services[role]["command"])
        assert command.startswith("gunicorn -c python:") and app in command, command
        assert "/readyz" in " ".join(services[role]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "USER workcred" in dockerfile and "fonts-nanum" in dockerfile and "npm ci" in dockerfile
