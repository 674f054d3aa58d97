// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

import {ITokenReceiver} from "./ITokenReceiver.sol";

/// @title CallbackToken
/// @notice An ERC-20 that, like ERC-777, hands control to the recipient during a transfer: after
/// the balances move it calls `onTokenReceived(from, amount)` on every recipient that registered
/// for hooks. A hostile recipient can use the hook to reenter the sender or to revert.
contract CallbackToken is ERC20 {
    mapping(address account => bool) public wantsHook;

    event HookRegistered(address indexed account, bool enabled);

    constructor() ERC20("Callback Dollar", "CBD") {}

    /// @notice Create `amount` tokens for `to` (no hook). Unrestricted: test use only.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The caller asks to be called back on every transfer it receives (ERC-1820 style).
    function registerHook(bool enabled) external {
        wantsHook[msg.sender] = enabled;
        emit HookRegistered(msg.sender, enabled);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @dev Calls the hook after the balances moved; a revert in the hook bubbles up.
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from != address(0) && to != address(0) && wantsHook[to]) {
            ITokenReceiver(to).onTokenReceived(from, value);
        }
    }
}
