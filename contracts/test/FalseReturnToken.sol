// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FalseReturnToken
/// @notice An ERC-20 that refuses a transfer to a flagged recipient by returning false (moving
/// nothing) instead of reverting, as some older tokens do. A caller that ignores the return value
/// would count such a transfer as paid.
contract FalseReturnToken is ERC20 {
    mapping(address account => bool) public refused;

    constructor() ERC20("False Dollar", "FLD") {}

    /// @notice Create `amount` tokens for `to`. Unrestricted: test use only.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Make transfers to `account` return false, or work again.
    function setRefused(address account, bool isRefused) external {
        refused[account] = isRefused;
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (refused[to]) return false;
        return super.transfer(to, value);
    }
}
