"""EVM anchoring of registry checkpoints: the CheckpointAnchor contract and its web3.py client."""

from registry.evm.anchor import (
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
