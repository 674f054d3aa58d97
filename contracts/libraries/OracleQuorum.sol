// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";

/// @title OracleQuorum: the signature rules the licence's riders share
/// @notice What the escalator and the reviews contract accept as "signed by the licence's
/// oracles" (exactly `threshold` of them, distinct and ascending by address, like a report) and as
/// a party's consent (its EIP-712 or ERC-1271 signature, or the party calling itself).
/// @dev Reverts with IRoyaltyLedger's signature errors: an error's selector is its name and
/// argument types, so they are the very errors ILicenceEscalator and ILicenceReviews declare.
library OracleQuorum {
    function check(
        ILicenceRegistry registry,
        uint256 licenceId,
        bytes32 digest,
        bytes[] calldata signatures,
        uint8 threshold
    ) internal view {
        if (signatures.length != threshold) {
            revert IRoyaltyLedger.WrongSignatureCount(signatures.length, threshold);
        }
        address previous = address(0);
        for (uint256 i; i < signatures.length; ++i) {
            // tryRecover rejects malleable (high-s) and malformed signatures.
            (address signer, ECDSA.RecoverError error, bytes32 detail) = ECDSA.tryRecover(digest, signatures[i]);
            if (error != ECDSA.RecoverError.NoError) revert IRoyaltyLedger.InvalidSignature(i, uint8(error), detail);
            if (!registry.isOracle(licenceId, signer)) revert IRoyaltyLedger.UnknownSigner(i, signer);
            if (signer <= previous) revert IRoyaltyLedger.SignersNotAscending(i, signer);
            previous = signer;
        }
    }

    /// @notice Whether `party` consents to `digest`: it is the caller, or `signature` is its own.
    function consents(address party, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        if (msg.sender == party) return true;
        return SignatureChecker.isValidSignatureNow(party, digest, signature);
    }
}
