// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title CheckpointAnchor
/// @notice Records the root hash of each signed checkpoint of a workcred registry log
///         (C2SP tlog-checkpoint: origin, tree size, SHA-256 root) so that anyone can check
///         a checkpoint against the chain. Only roots are stored: no personal data.
/// @dev A (originHash, treeSize) slot is written once. Writing the same root again is a no-op
///      (so retries and concurrent anchorers are safe); a different root for an anchored size
///      reverts with ForkAttempt, because two roots for one size of one log prove a fork.
contract CheckpointAnchor {
    struct Anchor {
        bytes32 root;
        uint64 timestamp;
        uint64 blockNumber;
    }

    /// @notice The account that may authorise and de-authorise anchoring accounts.
    address public owner;

    /// @notice Accounts the owner authorised to anchor (the registry's anchoring accounts).
    mapping(address => bool) public isAnchorer;

    // originHash => treeSize => anchor
    mapping(bytes32 => mapping(uint64 => Anchor)) private _anchors;
    // originHash => largest anchored tree size
    mapping(bytes32 => uint64) private _latestSize;

    event Anchored(bytes32 indexed originHash, uint64 indexed treeSize, bytes32 root);
    event AnchorerSet(address indexed account, bool allowed);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error NotAnchorer(address caller);
    error ForkAttempt(bytes32 originHash, uint64 treeSize, bytes32 anchoredRoot, bytes32 offeredRoot);
    error ZeroRoot();
    error ZeroAddress();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @param anchorers accounts authorised to anchor from the start (may be empty)
    constructor(address[] memory anchorers) {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        for (uint256 i = 0; i < anchorers.length; i++) {
            _setAnchorer(anchorers[i], true);
        }
    }

    /// @notice Authorise (allowed = true) or de-authorise an anchoring account.
    function setAnchorer(address account, bool allowed) external onlyOwner {
        _setAnchorer(account, allowed);
    }

    /// @notice Hand the contract to a new owner (for example the city's governance multisig).
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Record `root` as the root of the log `originHash` at `treeSize`.
    /// @dev Idempotent for the same root; reverts with ForkAttempt for a different one.
    function anchor(bytes32 originHash, uint64 treeSize, bytes32 root) external {
        if (!isAnchorer[msg.sender]) revert NotAnchorer(msg.sender);
        // a zero root would be indistinguishable from "not anchored"
        if (root == bytes32(0)) revert ZeroRoot();
        Anchor storage slot = _anchors[originHash][treeSize];
        bytes32 anchored = slot.root;
        if (anchored != bytes32(0)) {
            if (anchored != root) revert ForkAttempt(originHash, treeSize, anchored, root);
            return;
        }
        slot.root = root;
        slot.timestamp = uint64(block.timestamp);
        slot.blockNumber = uint64(block.number);
        // checkpoints may arrive out of order; latest only moves forward
        if (treeSize > _latestSize[originHash]) _latestSize[originHash] = treeSize;
        emit Anchored(originHash, treeSize, root);
    }

    /// @notice The root anchored for `treeSize` of the log, with the block timestamp and number
    ///         it was anchored in; all zero when that size was never anchored.
    function rootAt(bytes32 originHash, uint64 treeSize)
        external
        view
        returns (bytes32 root, uint64 timestamp, uint64 blockNumber)
    {
        Anchor storage slot = _anchors[originHash][treeSize];
        return (slot.root, slot.timestamp, slot.blockNumber);
    }

    /// @notice The largest anchored tree size of the log and its root; root is zero when the
    ///         log has no anchored checkpoint.
    function latest(bytes32 originHash)
        external
        view
        returns (uint64 treeSize, bytes32 root, uint64 timestamp, uint64 blockNumber)
    {
        treeSize = _latestSize[originHash];
        Anchor storage slot = _anchors[originHash][treeSize];
        return (treeSize, slot.root, slot.timestamp, slot.blockNumber);
    }

    function _setAnchorer(address account, bool allowed) private {
        if (account == address(0)) revert ZeroAddress();
        isAnchorer[account] = allowed;
        emit AnchorerSet(account, allowed);
    }
}
