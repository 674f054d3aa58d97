// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {LicenceTypedData} from "../../contracts/LicenceTypedData.sol";
import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";

/// @notice LicenceTypedData's struct hashes (its array hashing is assembly) against EIP-712
/// written out here with abi.encode only, for fuzzed schedules and payee lists of any length.
contract TypedDataTest is Test {
    LicenceTypedData internal typedData = new LicenceTypedData();

    function _referenceSchedule(ILicenceRegistry.Schedule memory s) internal view returns (bytes32) {
        bytes memory tiers;
        for (uint256 i; i < s.tiers.length; ++i) {
            tiers = bytes.concat(
                tiers, keccak256(abi.encode(typedData.TIER_TYPEHASH(), s.tiers[i].threshold, s.tiers[i].rateBps))
            );
        }
        bytes memory rates;
        for (uint256 i; i < s.fieldRates.length; ++i) {
            rates = bytes.concat(
                rates,
                keccak256(abi.encode(typedData.FIELD_RATE_TYPEHASH(), s.fieldRates[i].field, s.fieldRates[i].rateBps))
            );
        }
        return keccak256(
            abi.encode(
                typedData.SCHEDULE_TYPEHASH(),
                s.effectiveFrom,
                s.fixedFeePerPeriod,
                s.rateBps,
                s.perUnit,
                s.minimumGuarantee,
                keccak256(tiers),
                keccak256(rates)
            )
        );
    }

    function testFuzz_scheduleHash_EqualsTheReference(
        uint64 effectiveFrom,
        uint128 fee,
        uint16 rate,
        uint128 perUnit,
        uint128 guarantee,
        uint256 tierCount,
        uint256 fieldCount,
        uint256 seed
    ) public view {
        tierCount = bound(tierCount, 0, 20);
        fieldCount = bound(fieldCount, 0, 20);
        ILicenceRegistry.Schedule memory s;
        (s.effectiveFrom, s.fixedFeePerPeriod, s.rateBps, s.perUnit, s.minimumGuarantee) =
        (effectiveFrom, fee, rate, perUnit, guarantee);
        s.tiers = new ILicenceRegistry.Tier[](tierCount);
        for (uint256 i; i < tierCount; ++i) {
            uint256 word = uint256(keccak256(abi.encode(seed, "tier", i)));
            s.tiers[i] = ILicenceRegistry.Tier(uint128(word), uint16(word >> 128));
        }
        s.fieldRates = new ILicenceRegistry.FieldRate[](fieldCount);
        for (uint256 i; i < fieldCount; ++i) {
            uint256 word = uint256(keccak256(abi.encode(seed, "field", i)));
            s.fieldRates[i] = ILicenceRegistry.FieldRate(uint8(word), uint16(word >> 8));
        }
        assertEq(typedData.scheduleStructHash(s), _referenceSchedule(s));
    }

    function testFuzz_registerHash_BindsEveryPayee(uint8 count, uint256 seed, uint64 deadline) public view {
        ILicenceRegistry.Terms memory t;
        t.licensor = address(0xA11CE);
        t.licensee = address(0xB0B);
        t.payees = new ILicenceRegistry.Payee[](count);
        bytes memory payees;
        for (uint256 i; i < count; ++i) {
            t.payees[i] = ILicenceRegistry.Payee(
                address(uint160(uint256(keccak256(abi.encode(seed, i))))),
                uint16(uint256(keccak256(abi.encode(i, seed))))
            );
            payees = bytes.concat(
                payees, keccak256(abi.encode(typedData.PAYEE_TYPEHASH(), t.payees[i].account, t.payees[i].shareBps))
            );
        }
        bytes32 hash = typedData.registerStructHash(t, deadline);
        // The payees' member is the 11th word (index 10) of the encoding: rebuild the expected
        // struct hash around the reference one and compare.
        bytes32[20] memory words;
        words[0] = typedData.REGISTER_TYPEHASH();
        words[1] = bytes32(uint256(uint160(t.licensor)));
        words[2] = bytes32(uint256(uint160(t.licensee)));
        words[4] = keccak256("");
        words[5] = keccak256(abi.encode(typedData.SCOPE_TYPEHASH(), 0, 0, 0));
        words[6] = keccak256(
            abi.encode(
                typedData.TERM_TYPEHASH(),
                0,
                0,
                0,
                0,
                keccak256(abi.encode(typedData.CALENDAR_TYPEHASH(), 0, false, 0, 0, 0, 0, 0, 0, 0, 0, bytes16(0)))
            )
        );
        words[9] = _referenceSchedule(t.schedule);
        words[10] = keccak256(payees);
        words[13] = keccak256("");
        words[19] = bytes32(uint256(deadline));
        assertEq(hash, keccak256(abi.encode(words)));
        if (count > 0) {
            // Changing one payee's share changes the hash.
            t.payees[count - 1].shareBps ^= 1;
            assertTrue(typedData.registerStructHash(t, deadline) != hash);
        }
    }
}
