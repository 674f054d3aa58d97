// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ITokenReceiver
/// @notice Hook that CallbackToken calls on a recipient contract that registered for it (in the
/// spirit of ERC-777 `tokensReceived`). A revert in the hook reverts the transfer.
interface ITokenReceiver {
    /// @notice Called after `amount` tokens from `from` arrived at the recipient.
    function onTokenReceived(address from, uint256 amount) external;
}
