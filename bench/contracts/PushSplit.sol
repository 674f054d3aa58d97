// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title PushSplit
/// @notice The bench's cheapest alternative to the royalty ledger: one call pulls an amount from
/// the payer and pays every payee its share at once. No pricing, no signatures, no records.
/// @dev Bench baseline only (bench/lifetime.py). The payees and their shares are committed by a
/// hash at deployment and passed as calldata on each call, as 0xSplits v2 does: no storage read
/// per payee. Each payee but the first gets floor(amount * share / 10,000); the first gets the
/// remainder, so the parts add up to the amount exactly.
contract PushSplit {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ errors

    error SharesDoNotSumTo10000(uint256 sum);
    error LengthMismatch(uint256 payees, uint256 shares);
    error NoPayees();
    error WrongPayees(bytes32 given, bytes32 committed);

    // ------------------------------------------------------------------ events

    event Distributed(address indexed payer, uint256 amount, uint256 payees);

    // ------------------------------------------------------------------ constants and immutables

    uint256 public constant BPS = 10_000;
    IERC20 public immutable token;
    bytes32 public immutable payeesHash;

    // ------------------------------------------------------------------ constructor

    /// @param token_ the ERC-20 paid out
    /// @param payees the rights holders
    /// @param sharesBps each payee's share in basis points, summing to 10,000
    constructor(IERC20 token_, address[] memory payees, uint16[] memory sharesBps) {
        if (payees.length == 0) revert NoPayees();
        if (payees.length != sharesBps.length) revert LengthMismatch(payees.length, sharesBps.length);
        uint256 sum;
        for (uint256 i; i < sharesBps.length; ++i) {
            sum += sharesBps[i];
        }
        if (sum != BPS) revert SharesDoNotSumTo10000(sum);
        token = token_;
        payeesHash = keccak256(abi.encode(payees, sharesBps));
    }

    // ------------------------------------------------------------------ external functions

    /// @notice Pulls `amount` from the caller (who approved this contract) and pays it out.
    /// @param payees and sharesBps must be the lists given at deployment
    function distribute(uint256 amount, address[] calldata payees, uint16[] calldata sharesBps) external {
        bytes32 given = keccak256(abi.encode(payees, sharesBps));
        if (given != payeesHash) revert WrongPayees(given, payeesHash);
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 rest = amount;
        for (uint256 i = 1; i < payees.length; ++i) {
            uint256 part = (amount * sharesBps[i]) / BPS;
            rest -= part;
            token.safeTransfer(payees[i], part);
        }
        token.safeTransfer(payees[0], rest);
        emit Distributed(msg.sender, amount, payees.length);
    }
}
