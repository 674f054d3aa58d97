// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "./interfaces/IRoyaltyLedger.sol";
import {ReportHash} from "./libraries/ReportHash.sol";

/// @dev The registry's EIP-712 domain, read back from it.
interface IRegistryDomain {
    function domainSeparator() external view returns (bytes32);
}

/// @title LicenceTypes: the EIP-712 type strings of consent, one definition for the registry's
/// public type hashes and LicenceTypedData's encoding (referenced types sorted by name, as
/// EIP-712's encodeType orders them).
library LicenceTypes {
    bytes32 internal constant SCOPE_TYPEHASH = keccak256("Scope(uint256 territories,uint64 fields,uint32 channels)");
    bytes32 internal constant CALENDAR_TYPEHASH = keccak256(
        "Calendar(uint8 periodMonths,bool anniversary,uint8 yearMonth,uint8 yearDay,uint16 dueDays,"
        "uint16 interestBps,uint16 reserveBps,uint8 reservePeriods,uint16 auditThresholdBps,uint8 fxRule,bytes16 fxSource)"
    );
    bytes32 internal constant TERM_TYPEHASH = keccak256(
        "Term(uint64 start,uint64 end,uint32 sellOffDays,uint32 periodSeconds,Calendar calendar)"
        "Calendar(uint8 periodMonths,bool anniversary,uint8 yearMonth,uint8 yearDay,uint16 dueDays,"
        "uint16 interestBps,uint16 reserveBps,uint8 reservePeriods,uint16 auditThresholdBps,uint8 fxRule,bytes16 fxSource)"
    );
    bytes32 internal constant TIER_TYPEHASH = keccak256("Tier(uint128 threshold,uint16 rateBps)");
    bytes32 internal constant FIELD_RATE_TYPEHASH = keccak256("FieldRate(uint8 field,uint16 rateBps)");
    bytes32 internal constant SCHEDULE_TYPEHASH = keccak256(
        "Schedule(uint64 effectiveFrom,uint128 fixedFeePerPeriod,uint16 rateBps,uint128 perUnit,"
        "uint128 minimumGuarantee,Tier[] tiers,FieldRate[] fieldRates)"
        "FieldRate(uint8 field,uint16 rateBps)Tier(uint128 threshold,uint16 rateBps)"
    );
    bytes32 internal constant PAYEE_TYPEHASH = keccak256("Payee(address account,uint16 shareBps)");
    bytes32 internal constant REGISTER_TYPEHASH = keccak256(
        "RegisterLicence(address licensor,address licensee,bytes32 legalTextHash,uint256[] assetIds,"
        "Scope scope,Term term,address token,uint128 advance,Schedule schedule,Payee[] payees,"
        "uint16 taxBps,address taxAccount,address[] oracles,uint8 threshold,uint32 disputeWindow,"
        "address arbiter,uint32 curePeriod,bytes32 salt,uint64 deadline)"
        "Calendar(uint8 periodMonths,bool anniversary,uint8 yearMonth,uint8 yearDay,uint16 dueDays,"
        "uint16 interestBps,uint16 reserveBps,uint8 reservePeriods,uint16 auditThresholdBps,uint8 fxRule,bytes16 fxSource)"
        "FieldRate(uint8 field,uint16 rateBps)" "Payee(address account,uint16 shareBps)"
        "Schedule(uint64 effectiveFrom,uint128 fixedFeePerPeriod,uint16 rateBps,uint128 perUnit,"
        "uint128 minimumGuarantee,Tier[] tiers,FieldRate[] fieldRates)"
        "Scope(uint256 territories,uint64 fields,uint32 channels)"
        "Term(uint64 start,uint64 end,uint32 sellOffDays,uint32 periodSeconds,Calendar calendar)"
        "Tier(uint128 threshold,uint16 rateBps)"
    );
    bytes32 internal constant AMEND_TYPEHASH = keccak256(
        "AmendLicence(uint256 licenceId,uint32 version,Schedule schedule,uint64 newEnd,uint64 deadline)"
        "FieldRate(uint8 field,uint16 rateBps)"
        "Schedule(uint64 effectiveFrom,uint128 fixedFeePerPeriod,uint16 rateBps,uint128 perUnit,"
        "uint128 minimumGuarantee,Tier[] tiers,FieldRate[] fieldRates)" "Tier(uint128 threshold,uint16 rateBps)"
    );
}

/// @title LicenceTypedData: the EIP-712 struct hashes of registration and amendment consent
/// @notice A party consents to a licence by signing every field of its terms as EIP-712 typed
/// data (scope, term and calendar, rates, payees, tax, oracles, dispute and cure settings), so
/// its wallet shows each field rather than one opaque hash; an amendment is signed the same way
/// with its whole new schedule. Stateless: the registry deploys it (as it does its clock, to stay
/// under the 24,576-byte EIP-170 limit) and asks it for the struct hash it then signs over in
/// its own domain. Arrays follow EIP-712: an array of atoms hashes its 32-byte words, an array of
/// structs the concatenation of their struct hashes.
contract LicenceTypedData {
    bytes32 public constant SCOPE_TYPEHASH = LicenceTypes.SCOPE_TYPEHASH;
    bytes32 public constant CALENDAR_TYPEHASH = LicenceTypes.CALENDAR_TYPEHASH;
    bytes32 public constant TERM_TYPEHASH = LicenceTypes.TERM_TYPEHASH;
    bytes32 public constant TIER_TYPEHASH = LicenceTypes.TIER_TYPEHASH;
    bytes32 public constant FIELD_RATE_TYPEHASH = LicenceTypes.FIELD_RATE_TYPEHASH;
    bytes32 public constant SCHEDULE_TYPEHASH = LicenceTypes.SCHEDULE_TYPEHASH;
    bytes32 public constant PAYEE_TYPEHASH = LicenceTypes.PAYEE_TYPEHASH;
    bytes32 public constant REGISTER_TYPEHASH = LicenceTypes.REGISTER_TYPEHASH;
    bytes32 public constant AMEND_TYPEHASH = LicenceTypes.AMEND_TYPEHASH;
    bytes32 public constant BUCKET_TYPEHASH = ReportHash.BUCKET_TYPEHASH;
    bytes32 public constant CONVERSION_TYPEHASH = ReportHash.CONVERSION_TYPEHASH;
    bytes32 public constant REPORT_TYPEHASH = ReportHash.REPORT_TYPEHASH;

    /// @notice The registry that deployed this, in whose EIP-712 domain reports are signed.
    address public immutable registry;

    constructor() {
        registry = msg.sender;
    }

    /// @notice The EIP-712 digest the oracles sign for `report`: SalesReport in the registry's
    /// domain (LicenceRegistry, version 1, this chain, the registry), as the ledger recovers it.
    function reportDigest(IRoyaltyLedger.Report calldata report) external view returns (bytes32) {
        return
            MessageHashUtils.toTypedDataHash(IRegistryDomain(registry).domainSeparator(), ReportHash.structHash(report));
    }

    /// @notice hashStruct(RegisterLicence): every field of `terms`, then the consent's deadline.
    function registerStructHash(ILicenceRegistry.Terms calldata terms, uint64 deadline)
        external
        pure
        returns (bytes32)
    {
        // One word per member, in the type's order (a fixed array keeps the stack shallow).
        bytes32[20] memory words;
        words[0] = REGISTER_TYPEHASH;
        words[1] = bytes32(uint256(uint160(terms.licensor)));
        words[2] = bytes32(uint256(uint160(terms.licensee)));
        words[3] = terms.legalTextHash;
        words[4] = keccak256(abi.encodePacked(terms.assetIds));
        words[5] = _scopeHash(terms.scope);
        words[6] = _termHash(terms.term);
        words[7] = bytes32(uint256(uint160(terms.token)));
        words[8] = bytes32(uint256(terms.advance));
        words[9] = _scheduleHash(terms.schedule);
        words[10] = _payeesHash(terms.payees);
        words[11] = bytes32(uint256(terms.taxBps));
        words[12] = bytes32(uint256(uint160(terms.taxAccount)));
        // abi.encodePacked pads each array element to a word: EIP-712's encoding of address[].
        words[13] = keccak256(abi.encodePacked(terms.oracles));
        words[14] = bytes32(uint256(terms.threshold));
        words[15] = bytes32(uint256(terms.disputeWindow));
        words[16] = bytes32(uint256(uint160(terms.arbiter)));
        words[17] = bytes32(uint256(terms.curePeriod));
        words[18] = terms.salt;
        words[19] = bytes32(uint256(deadline));
        return keccak256(abi.encode(words));
    }

    /// @notice hashStruct(AmendLicence) for the licence's next schedule version.
    function amendStructHash(
        uint256 licenceId,
        uint32 version,
        ILicenceRegistry.Schedule calldata schedule,
        uint64 newEnd,
        uint64 deadline
    ) external pure returns (bytes32) {
        return keccak256(abi.encode(AMEND_TYPEHASH, licenceId, version, _scheduleHash(schedule), newEnd, deadline));
    }

    /// @notice hashStruct(Schedule), as signed inside registration and amendment consent.
    function scheduleStructHash(ILicenceRegistry.Schedule calldata schedule) external pure returns (bytes32) {
        return _scheduleHash(schedule);
    }

    function _scopeHash(ILicenceRegistry.Scope calldata scope) private pure returns (bytes32) {
        return keccak256(abi.encode(SCOPE_TYPEHASH, scope.territories, scope.fields, scope.channels));
    }

    function _termHash(ILicenceRegistry.Term calldata term) private pure returns (bytes32) {
        ILicenceRegistry.Calendar calldata c = term.calendar;
        bytes32 calendarHash = keccak256(
            abi.encode(
                CALENDAR_TYPEHASH,
                c.periodMonths,
                c.anniversary,
                c.yearMonth,
                c.yearDay,
                c.dueDays,
                c.interestBps,
                c.reserveBps,
                c.reservePeriods,
                c.auditThresholdBps,
                c.fxRule,
                c.fxSource
            )
        );
        return
            keccak256(
                abi.encode(TERM_TYPEHASH, term.start, term.end, term.sellOffDays, term.periodSeconds, calendarHash)
            );
    }

    function _scheduleHash(ILicenceRegistry.Schedule calldata s) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                SCHEDULE_TYPEHASH,
                s.effectiveFrom,
                s.fixedFeePerPeriod,
                s.rateBps,
                s.perUnit,
                s.minimumGuarantee,
                _hashPairs(TIER_TYPEHASH, _offset(s.tiers), s.tiers.length),
                _hashPairs(FIELD_RATE_TYPEHASH, _offset(s.fieldRates), s.fieldRates.length)
            )
        );
    }

    function _payeesHash(ILicenceRegistry.Payee[] calldata payees) private pure returns (bytes32 result) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := payees.offset
        }
        return _hashPairs(PAYEE_TYPEHASH, offset, payees.length);
    }

    function _offset(ILicenceRegistry.Tier[] calldata tiers) private pure returns (uint256 offset) {
        assembly ("memory-safe") {
            offset := tiers.offset
        }
    }

    function _offset(ILicenceRegistry.FieldRate[] calldata rates) private pure returns (uint256 offset) {
        assembly ("memory-safe") {
            offset := rates.offset
        }
    }

    /// @dev EIP-712 hash of an array of two-member structs (Payee, Tier, FieldRate: two static
    /// words each in calldata): keccak256 of the concatenated keccak256(typehash, a, b). Written
    /// in assembly over memory past the free pointer (nothing allocated per element): 500 payees
    /// otherwise cost about 250,000 gas of memory and copies. The words are hashed as the caller
    /// encoded them: the registry calls with its own ABI-encoded (so clean) terms, and its own
    /// validation of the same values reverts on any dirty word.
    function _hashPairs(bytes32 typehash, uint256 offset, uint256 length) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let out := mload(0x40)
            let scratch := add(out, shl(5, length))
            mstore(scratch, typehash)
            for { let i := 0 } lt(i, length) { i := add(i, 1) } {
                let item := add(offset, shl(6, i))
                mstore(add(scratch, 0x20), calldataload(item))
                mstore(add(scratch, 0x40), calldataload(add(item, 0x20)))
                mstore(add(out, shl(5, i)), keccak256(scratch, 0x60))
            }
            result := keccak256(out, shl(5, length))
        }
    }
}
