// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRoyaltyLedger} from "./IRoyaltyLedger.sol";

/// @title A licence's exchange rates: the check of a report's conversions, and the tables of fixed
/// contractual rates both parties sign (docs/currencies.md)
/// @notice The ledger's settlement module hands every report with conversions to `checkConversions`
/// (the module has no room for the check itself). Under conversion rule 4 (`fixed`) a licence converts its sales in other currencies at
/// the rates its parties agreed, not at a publisher's. The table both sign lists, per currency,
/// how many units of the licence currency one unit of it is worth (scaled by 10^18, as every rate
/// the ledger checks). A period is converted by the table in force at its start; the ledger
/// refuses a report whose rate for a currency is not the table's.
/// @dev Tables are versioned: version 0 is in force from the licence's start, each later one from
/// a period's start at or after the previous table's (the latest version in force at a period's
/// start converts it), only while no period from then on is settled: a settled royalty is never
/// repriced, and the rates of periods not yet settled can be corrected by both parties.
interface ILicenceFx {
    // ------------------------------------------------------------------ types

    /// @notice One currency's agreed rate: `rate` units of the licence currency (times 10^18) for
    /// one unit of `currency` (an ISO 4217 code).
    struct FixedRate {
        bytes3 currency;
        uint128 rate;
    }

    // ------------------------------------------------------------------ events

    /// @notice Both parties agreed table `version` of the licence's rates, in force from `effectiveFrom`.
    event FixedRatesAgreed(
        uint256 indexed licenceId, uint32 indexed version, uint64 effectiveFrom, FixedRate[] rates
    );

    // ------------------------------------------------------------------ errors

    error LicenceNotActive(uint256 licenceId);
    /// @notice The licence's conversion clause is not rule 4 (fixed): its rates are a publisher's.
    error NotFixedRateLicence(uint256 licenceId, uint8 fxRule);
    error FixedRatesEmpty();
    error TooManyFixedRates(uint256 count, uint256 max);
    /// @notice The i-th entry's currency is not three ASCII capitals.
    error FixedRateCurrencyInvalid(uint256 index, bytes3 currency);
    /// @notice Currencies are listed strictly ascending (so each appears once).
    error FixedRatesNotOrdered(uint256 index, bytes3 currency);
    error FixedRateOutOfBounds(uint256 index, uint128 rate, uint128 min, uint128 max);
    /// @notice The first table is in force from the licence's start (`required`); a later one from
    /// a period start at or after the previous table's (`required`), within the term.
    error FixedRatesEffectiveInvalid(uint64 effectiveFrom, uint64 required);
    /// @notice Period `period`, at or after `effectiveFrom`, is settled: a table from then would
    /// reprice its royalty.
    error FixedRatesRepriceSettled(uint64 effectiveFrom, uint32 period);
    error FixedRatesNotAtPeriodStart(uint64 effectiveFrom, uint64 periodStart);
    error FixedRatesAfterTerm(uint64 effectiveFrom, uint64 effectiveEnd);
    error ConsentExpired(uint64 deadline, uint256 nowSeconds);
    error ConsentMissing(address party);

    // ------------------------------------------------------------------ actions

    /// @notice Record table `tableCount(licenceId)` both parties signed (EIP-712 AgreeFixedRates,
    /// bound to that version so a signed table is used once; a party calling itself may pass an
    /// empty signature). Anyone may relay it.
    function agree(
        uint256 licenceId,
        uint64 effectiveFrom,
        FixedRate[] calldata rates,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external returns (uint32 version);

    // ------------------------------------------------------------------ views

    /// @notice Checks the conversions of `report` (its period [periodStart, periodEnd), the licence's
    /// conversion rule `fxRule`, its token `token`) and returns what each converts to, gross and
    /// deductions in token units (CurrencyConversion). Under rule 4 each rate must be the one the
    /// table in force at `periodStart` agrees for its currency (IRoyaltyLedger.FixedRateMismatch).
    /// Reverts with IRoyaltyLedger's errors, which the ledger passes on.
    function checkConversions(
        IRoyaltyLedger.Report calldata report,
        uint8 fxRule,
        uint64 periodStart,
        uint64 periodEnd,
        address token
    ) external view returns (uint256[] memory gross, uint256[] memory deductions);

    /// @notice The agreed rate of `currency` in the table in force at `at` (a period's start), and
    /// that table's version; rate 0 when no table is in force then or it does not list the currency.
    function rateOf(uint256 licenceId, bytes3 currency, uint64 at) external view returns (uint128 rate, uint32 version);
    function tableCount(uint256 licenceId) external view returns (uint32);
    /// @notice Table `version` of the licence: when it is in force from, and its rates.
    function table(uint256 licenceId, uint32 version)
        external
        view
        returns (uint64 effectiveFrom, FixedRate[] memory rates);
    function agreeDigest(uint256 licenceId, uint32 version, uint64 effectiveFrom, FixedRate[] calldata rates, uint64 deadline)
        external
        view
        returns (bytes32);
}
