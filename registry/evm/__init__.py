"""EVM anchoring of registry checkpoints: the CheckpointAnchor contract (CheckpointAnchor.sol here).

The web3.py client lives in `agents.evm`, because verifiers read the anchored roots too; the
compiled artifact is `agents/evm/CheckpointAnchor.json` (written by scripts/compile_contract.mjs).
"""

from agents.evm import (
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
