// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";
import {CallbackToken} from "./CallbackToken.sol";
import {ITokenReceiver} from "./ITokenReceiver.sol";

/// @title HostilePayee
/// @notice A payee contract that, when CallbackToken pays it, reenters the ledger or refuses the
/// payment, as configured. Used to show that one hostile payee cannot steal, double-withdraw or
/// block anyone else.
contract HostilePayee is ITokenReceiver {
    enum Mode {
        Accept, // take the tokens quietly
        Refuse, // revert in the hook, so its own withdrawal fails
        ReenterWithdraw, // call withdraw again from the hook (expected to revert the whole payment)
        ReenterDeposit, // deposit the tokens back from the hook (expected to revert the whole payment)
        TryReenterWithdraw, // try to withdraw again, swallow the failure and keep the first payment
        BurnGas, // spin until the call runs out of gas
        ReenterDistribute // call distribute again from the hook (expected to revert the whole payment)
    }

    IRoyaltyLedger public immutable ledger;
    CallbackToken public immutable token;
    uint256 public licenceId;
    Mode public mode;
    /// @notice Total received through the hook.
    uint256 public received;
    /// @notice Set when a swallowed reentry attempt failed.
    bool public reentryFailed;
    /// @notice Revert data of the last swallowed reentry attempt.
    bytes public reentryError;

    error PaymentRefused(address from, uint256 amount);
    error NotToken(address caller);

    constructor(IRoyaltyLedger ledger_, CallbackToken token_) {
        ledger = ledger_;
        token = token_;
        token_.registerHook(true);
    }

    /// @notice Choose the licence to attack and how.
    function configure(uint256 licenceId_, Mode mode_) external {
        licenceId = licenceId_;
        mode = mode_;
    }

    /// @inheritdoc ITokenReceiver
    function onTokenReceived(address from, uint256 amount) external {
        if (msg.sender != address(token)) revert NotToken(msg.sender);
        Mode current = mode;
        if (current == Mode.Refuse) revert PaymentRefused(from, amount);
        if (current == Mode.ReenterWithdraw) {
            ledger.withdraw(licenceId, address(this));
        } else if (current == Mode.ReenterDeposit) {
            token.approve(address(ledger), amount);
            ledger.deposit(licenceId, amount);
        } else if (current == Mode.BurnGas) {
            while (gasleft() > 0) {
                received += 1;
            }
        } else if (current == Mode.ReenterDistribute) {
            ledger.distribute(licenceId);
        } else if (current == Mode.TryReenterWithdraw) {
            try ledger.withdraw(licenceId, address(this)) {}
            catch (bytes memory reason) {
                reentryFailed = true;
                reentryError = reason;
            }
        }
        received += amount;
    }
}
