// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

import {ILicenceFx} from "./interfaces/ILicenceFx.sol";
import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {LicenceRegistry} from "./LicenceRegistry.sol";
import {IRoyaltyLedger} from "./interfaces/IRoyaltyLedger.sol";
import {CurrencyConversion} from "./libraries/CurrencyConversion.sol";
import {OracleQuorum} from "./libraries/OracleQuorum.sol";

/// @title LicenceFx: checking reports' conversions, and the exchange rates parties agreed (rule 4)
/// @notice Checks every conversion of a report for the ledger's settlement module, and holds each
/// fixed-rate licence's tables of agreed rates, both parties' signatures on each: a fixed-rate
/// licence's conversions must use the table in force at the period's start.
/// @dev A contract of its own beside the registry (near EIP-170's limit), like the escalator: it
/// needs nothing of the registry but its views.
contract LicenceFx is ILicenceFx, EIP712 {
    bytes32 public constant FIXED_RATE_TYPEHASH = keccak256("FixedRate(bytes3 currency,uint128 rate)");
    bytes32 public constant AGREE_TYPEHASH = keccak256(
        "AgreeFixedRates(uint256 licenceId,uint32 version,uint64 effectiveFrom,FixedRate[] rates,uint64 deadline)"
        "FixedRate(bytes3 currency,uint128 rate)"
    );
    /// @notice The conversion rule whose rates this contract holds (ILicenceRegistry.Calendar.fxRule).
    uint8 public constant FIXED_RULE = 4;
    /// @notice A table lists at most this many currencies (a report converts at most that many too).
    uint256 public constant MAX_FIXED_RATES = 32;

    ILicenceRegistry public immutable registry;

    struct Version {
        uint64 effectiveFrom;
        bytes3[] currencies;
    }

    mapping(uint256 licenceId => Version[]) private _versions;
    mapping(uint256 licenceId => mapping(uint256 version => mapping(bytes3 currency => uint128))) private _rates;

    constructor(ILicenceRegistry registry_) EIP712("LicenceFx", "1") {
        registry = registry_;
    }

    // ------------------------------------------------------------------ actions

    /// @inheritdoc ILicenceFx
    function agree(
        uint256 licenceId,
        uint64 effectiveFrom,
        FixedRate[] calldata rates,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external returns (uint32 version) {
        if (registry.status(licenceId) != ILicenceRegistry.Status.Active) revert LicenceNotActive(licenceId);
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(licenceId);
        if (context.calendar.fxRule != FIXED_RULE) revert NotFixedRateLicence(licenceId, context.calendar.fxRule);
        _validate(rates);
        Version[] storage versions = _versions[licenceId];
        version = uint32(versions.length);
        _checkEffective(licenceId, context, versions, effectiveFrom);
        if (block.timestamp > deadline) revert ConsentExpired(deadline, block.timestamp);
        _checkConsent(context, agreeDigest(licenceId, version, effectiveFrom, rates, deadline), licensorSig, licenseeSig);
        _store(licenceId, version, effectiveFrom, rates);
        emit FixedRatesAgreed(licenceId, version, effectiveFrom, rates);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ILicenceFx
    function checkConversions(
        IRoyaltyLedger.Report calldata report,
        uint8 fxRule,
        uint64 periodStart,
        uint64 periodEnd,
        address token
    ) external view returns (uint256[] memory gross, uint256[] memory deductions) {
        if (fxRule == 0) revert IRoyaltyLedger.ConversionNotAllowed(report.licenceId);
        (gross, deductions) = CurrencyConversion.check(report, periodStart, periodEnd, _decimals(token));
        if (fxRule != FIXED_RULE) return (gross, deductions);
        for (uint256 i; i < report.fx.length; ++i) {
            IRoyaltyLedger.Conversion calldata c = report.fx[i];
            (uint128 agreed,) = rateOf(report.licenceId, c.currency, periodStart);
            if (c.rate != agreed) revert IRoyaltyLedger.FixedRateMismatch(i, c.currency, c.rate, agreed);
        }
    }

    /// @inheritdoc ILicenceFx
    function rateOf(uint256 licenceId, bytes3 currency, uint64 at) public view returns (uint128 rate, uint32 version) {
        Version[] storage versions = _versions[licenceId];
        for (uint256 v = versions.length; v > 0; --v) {
            if (versions[v - 1].effectiveFrom <= at) {
                return (_rates[licenceId][v - 1][currency], uint32(v - 1));
            }
        }
        return (0, 0);
    }

    /// @inheritdoc ILicenceFx
    function tableCount(uint256 licenceId) external view returns (uint32) {
        return uint32(_versions[licenceId].length);
    }

    /// @inheritdoc ILicenceFx
    function table(uint256 licenceId, uint32 version)
        external
        view
        returns (uint64 effectiveFrom, FixedRate[] memory rates)
    {
        Version storage stored = _versions[licenceId][version];
        effectiveFrom = stored.effectiveFrom;
        rates = new FixedRate[](stored.currencies.length);
        for (uint256 i; i < rates.length; ++i) {
            bytes3 currency = stored.currencies[i];
            rates[i] = FixedRate({currency: currency, rate: _rates[licenceId][version][currency]});
        }
    }

    /// @inheritdoc ILicenceFx
    function agreeDigest(
        uint256 licenceId,
        uint32 version,
        uint64 effectiveFrom,
        FixedRate[] calldata rates,
        uint64 deadline
    ) public view returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](rates.length);
        for (uint256 i; i < rates.length; ++i) {
            hashes[i] = keccak256(abi.encode(FIXED_RATE_TYPEHASH, rates[i].currency, rates[i].rate));
        }
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    AGREE_TYPEHASH, licenceId, version, effectiveFrom, keccak256(abi.encodePacked(hashes)), deadline
                )
            )
        );
    }

    /// @notice The EIP-712 domain separator, for clients building typed data.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ internal

    /// @dev The licence token's decimals, which a conversion scales to: TokenDecimalsUnknown when
    /// the token does not answer or answers more than MAX_TOKEN_DECIMALS.
    function _decimals(address token) private view returns (uint8) {
        try IERC20Metadata(token).decimals() returns (uint8 d) {
            if (d > CurrencyConversion.MAX_TOKEN_DECIMALS) revert IRoyaltyLedger.TokenDecimalsUnknown(token);
            return d;
        } catch {
            revert IRoyaltyLedger.TokenDecimalsUnknown(token);
        }
    }

    function _checkConsent(
        ILicenceRegistry.SettlementContext memory context,
        bytes32 digest,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) private view {
        if (!OracleQuorum.consents(context.licensor, digest, licensorSig)) revert ConsentMissing(context.licensor);
        if (!OracleQuorum.consents(context.licensee, digest, licenseeSig)) revert ConsentMissing(context.licensee);
    }

    function _store(uint256 licenceId, uint32 version, uint64 effectiveFrom, FixedRate[] calldata rates) private {
        Version storage stored = _versions[licenceId].push();
        stored.effectiveFrom = effectiveFrom;
        mapping(bytes3 => uint128) storage byCurrency = _rates[licenceId][version];
        for (uint256 i; i < rates.length; ++i) {
            stored.currencies.push(rates[i].currency);
            byCurrency[rates[i].currency] = rates[i].rate;
        }
    }

    function _validate(FixedRate[] calldata rates) private pure {
        if (rates.length == 0) revert FixedRatesEmpty();
        if (rates.length > MAX_FIXED_RATES) revert TooManyFixedRates(rates.length, MAX_FIXED_RATES);
        for (uint256 i; i < rates.length; ++i) {
            FixedRate calldata r = rates[i];
            if (!CurrencyConversion.isCurrencyCode(r.currency)) revert FixedRateCurrencyInvalid(i, r.currency);
            if (i != 0 && r.currency <= rates[i - 1].currency) revert FixedRatesNotOrdered(i, r.currency);
            if (r.rate < CurrencyConversion.MIN_RATE || r.rate > CurrencyConversion.MAX_RATE) {
                revert FixedRateOutOfBounds(i, r.rate, CurrencyConversion.MIN_RATE, CurrencyConversion.MAX_RATE);
            }
        }
    }

    /// @dev The first table is in force from the licence's start. A later one from a period's
    /// start at or after the previous table's (at the same start it replaces it), within the term,
    /// and only while that period and every later one that has begun are unsettled: both parties
    /// may correct the rates of periods not yet settled, never reprice a settled royalty. (A
    /// settled period is then always converted, adjustments included, by the table it settled by.)
    function _checkEffective(
        uint256 licenceId,
        ILicenceRegistry.SettlementContext memory context,
        Version[] storage versions,
        uint64 effectiveFrom
    ) private view {
        if (versions.length == 0) {
            if (effectiveFrom != context.start) revert FixedRatesEffectiveInvalid(effectiveFrom, context.start);
            return;
        }
        uint64 previous = versions[versions.length - 1].effectiveFrom;
        if (effectiveFrom < previous) revert FixedRatesEffectiveInvalid(effectiveFrom, previous);
        if (effectiveFrom >= context.effectiveEnd) revert FixedRatesAfterTerm(effectiveFrom, context.effectiveEnd);
        uint32 first = registry.periodOf(licenceId, effectiveFrom);
        // slither-disable-next-line unused-return
        (uint64 periodStart,,) = registry.periodBounds(licenceId, first);
        if (periodStart != effectiveFrom) revert FixedRatesNotAtPeriodStart(effectiveFrom, periodStart);
        if (effectiveFrom > block.timestamp) return; // no period it covers has begun
        IRoyaltyLedger ledger = LicenceRegistry(address(registry)).ledger();
        uint32 current = registry.periodOf(licenceId, uint64(block.timestamp));
        for (uint32 p = first; p <= current; ++p) {
            if (ledger.settledPeriod(licenceId, p) != 0) revert FixedRatesRepriceSettled(effectiveFrom, p);
        }
    }
}
