// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BlocklistToken
/// @notice An ERC-20 whose owner can blocklist addresses, like USDC: any transfer from or to a
/// blocklisted address reverts. A ledger that pushes payments in a loop can be jammed by one
/// blocklisted payee; one with pull payments cannot.
contract BlocklistToken is ERC20, Ownable {
    mapping(address account => bool) public isBlocklisted;

    event Blocklisted(address indexed account, bool blocked);

    error AccountBlocklisted(address account);

    constructor(address owner_) ERC20("Blocklist Dollar", "BLD") Ownable(owner_) {}

    /// @notice Create `amount` tokens for `to`. Unrestricted: test use only.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Block or unblock an account.
    function setBlocklisted(address account, bool blocked) external onlyOwner {
        isBlocklisted[account] = blocked;
        emit Blocklisted(account, blocked);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (isBlocklisted[from]) revert AccountBlocklisted(from);
        if (isBlocklisted[to]) revert AccountBlocklisted(to);
        super._update(from, to, value);
    }
}
