"""The web3.py client of the CheckpointAnchor contract: anchor checkpoint roots (registry), read and check them (verifiers)."""

from agents.evm.anchor import (
    AnchorRecord,
    CheckpointLike,
    EvmAnchor,
    deploy,
    from_env,
    on_checkpoint_callback,
    origin_hash,
)

__all__ = [
    "AnchorRecord",
    "CheckpointLike",
    "EvmAnchor",
    "deploy",
    "from_env",
    "on_checkpoint_callback",
    "origin_hash",
]
