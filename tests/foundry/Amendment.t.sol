// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice Amendments: new schedule versions for later periods only, renewal, replay protection.
contract AmendmentTest is Base {
    uint256 internal licenceId;

    function setUp() public override {
        super.setUp();
        licenceId = registerDefault();
        deposit(licenceId, 1_000_000 * USD);
    }

    function _schedule(uint64 effectiveFrom, uint16 rateBps) private pure returns (ILicenceRegistry.Schedule memory s) {
        s.effectiveFrom = effectiveFrom;
        s.rateBps = rateBps;
    }

    function _expectAmendRevert(ILicenceRegistry.Schedule memory s, uint64 newEnd, bytes memory expected) private {
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = (new bytes(65), new bytes(65));
        vm.expectRevert(expected);
        vm.prank(relayer);
        registry.amend(licenceId, s, newEnd, deadline, licensorSig, licenseeSig);
    }

    function test_amend_NewSchedulePricesLaterPeriodsOnly() public {
        vm.warp(START + 100 days); // inside period 1
        ILicenceRegistry.Schedule memory s = _schedule(periodStart(2), 800);
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = amendConsent(licenceId, s, END, deadline);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ILicenceRegistry.LicenceAmended(licenceId, 1, s, END, END);
        vm.prank(relayer);
        registry.amend(licenceId, s, END, deadline, licensorSig, licenseeSig);

        assertEq(registry.scheduleCount(licenceId), 2);
        assertEq(registry.scheduleAt(licenceId, periodStart(2) - 1).rateBps, 500);
        assertEq(registry.scheduleAt(licenceId, periodStart(2)).rateBps, 800);
        // Periods 0 and 1 keep the first version, even when reported after the amendment.
        assertEq(ledger.settlement(settlePeriod(licenceId, 0, 100_000 * USD)).royalty, 5_000 * USD);
        assertEq(ledger.settlement(settlePeriod(licenceId, 1, 100_000 * USD)).royalty, 5_000 * USD);
        assertEq(ledger.settlement(settlePeriod(licenceId, 2, 100_000 * USD)).royalty, 8_000 * USD);
    }

    function test_amend_EffectiveMidPeriodAppliesFromNextPeriod() public {
        vm.warp(periodStart(2) + 1 days);
        amend(licenceId, _schedule(periodStart(2) + 20 days, 800), END);
        // Period 2 began under version 0; period 3 begins under version 1.
        assertEq(ledger.settlement(settlePeriod(licenceId, 2, 100_000 * USD)).royalty, 5_000 * USD);
        assertEq(ledger.settlement(settlePeriod(licenceId, 3, 100_000 * USD)).royalty, 8_000 * USD);
    }

    function test_amend_ByLicensorWithLicenseeSignature() public {
        ILicenceRegistry.Schedule memory s = _schedule(uint64(block.timestamp), 600);
        uint64 deadline = uint64(block.timestamp + 1 days);
        (, bytes memory licenseeSig) = amendConsent(licenceId, s, END, deadline);
        vm.prank(licensor);
        registry.amend(licenceId, s, END, deadline, "", licenseeSig);
        assertEq(registry.scheduleCount(licenceId), 2);
    }

    function test_amend_RenewalExtendsEnd() public {
        vm.warp(START + 2 * YEAR);
        uint64 newEnd = END + YEAR;
        ILicenceRegistry.Schedule memory s = _schedule(uint64(block.timestamp), RATE_BPS);
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = amendConsent(licenceId, s, newEnd, deadline);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ILicenceRegistry.LicenceAmended(licenceId, 1, s, newEnd, END);
        vm.prank(relayer);
        registry.amend(licenceId, s, newEnd, deadline, licensorSig, licenseeSig);

        vm.warp(END);
        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Active));
        ILicenceRegistry.SettlementContext memory c = registry.settlementContext(licenceId);
        assertEq(c.effectiveEnd, newEnd);
        assertEq(c.sellOffEnd, newEnd + 180 days);
        // Period 15 (days 1350..1440) lay beyond the old sell-off; it is inside the renewed term.
        assertEq(ledger.settlement(settlePeriod(licenceId, 15, 100_000 * USD)).royalty, 5_000 * USD);
        vm.warp(newEnd);
        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Expired));
    }

    function test_amend_RevertWhen_SignedForEarlierVersion() public {
        ILicenceRegistry.Schedule memory a = _schedule(uint64(block.timestamp + 10 days), 600);
        ILicenceRegistry.Schedule memory b = _schedule(uint64(block.timestamp + 20 days), 700);
        uint64 deadline = uint64(block.timestamp + 1 days);
        // Both amendments are signed while the licence is at version 1.
        (bytes memory aLicensorSig, bytes memory aLicenseeSig) = amendConsent(licenceId, a, END, deadline);
        (bytes memory bLicensorSig, bytes memory bLicenseeSig) = amendConsent(licenceId, b, END, deadline);
        vm.prank(relayer);
        registry.amend(licenceId, a, END, deadline, aLicensorSig, aLicenseeSig);

        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensor));
        vm.prank(relayer);
        registry.amend(licenceId, b, END, deadline, bLicensorSig, bLicenseeSig);
    }

    function test_amend_RevertWhen_SignedForOtherLicence() public {
        uint256 other = registerDefault();
        ILicenceRegistry.Schedule memory s = _schedule(uint64(block.timestamp + 10 days), 600);
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = amendConsent(licenceId, s, END, deadline);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensor));
        vm.prank(relayer);
        registry.amend(other, s, END, deadline, licensorSig, licenseeSig);
    }

    function test_amend_RevertWhen_ConsentExpired() public {
        ILicenceRegistry.Schedule memory s = _schedule(uint64(block.timestamp + 10 days), 600);
        uint64 deadline = uint64(block.timestamp + 1 hours);
        (bytes memory licensorSig, bytes memory licenseeSig) = amendConsent(licenceId, s, END, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentExpired.selector, deadline, deadline + 1));
        vm.prank(relayer);
        registry.amend(licenceId, s, END, deadline, licensorSig, licenseeSig);
    }

    function test_amend_ClearsBreachNotice() public {
        uint256 unfunded = registerDefault();
        settlePeriod(unfunded, 0, 100_000 * USD); // 5,000 of arrears
        vm.prank(licensor);
        registry.noticeBreach(unfunded);

        // Renewing with knowledge of the arrears waives the notice.
        ILicenceRegistry.Schedule memory s = _schedule(uint64(block.timestamp), RATE_BPS);
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = amendConsent(unfunded, s, END + YEAR, deadline);
        vm.prank(relayer);
        registry.amend(unfunded, s, END + YEAR, deadline, licensorSig, licenseeSig);

        vm.warp(block.timestamp + CURE_PERIOD + 1);
        assertEq(ledger.arrearsOf(unfunded), 5_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.NoBreachNotice.selector, unfunded));
        vm.prank(licensor);
        registry.terminateForCause(unfunded);
    }

    function test_amend_RevertWhen_EffectiveDateInPast() public {
        uint64 past = uint64(block.timestamp - 1);
        _expectAmendRevert(
            _schedule(past, 600),
            END,
            abi.encodeWithSelector(ILicenceRegistry.EffectiveDateInPast.selector, past, block.timestamp)
        );
    }

    function test_amend_RevertWhen_EffectiveDateNotAfterPrevious() public {
        uint64 first = uint64(block.timestamp + 100 days);
        amend(licenceId, _schedule(first, 600), END);
        uint64 earlier = uint64(block.timestamp + 50 days);
        _expectAmendRevert(
            _schedule(earlier, 700),
            END,
            abi.encodeWithSelector(ILicenceRegistry.EffectiveDateNotAfterPrevious.selector, earlier, first)
        );
    }

    function test_amend_RevertWhen_NewEndBeforeEffectiveDate() public {
        uint64 effective = uint64(block.timestamp + 10 days);
        _expectAmendRevert(
            _schedule(effective, 600),
            effective,
            abi.encodeWithSelector(ILicenceRegistry.NewEndBeforeEffectiveDate.selector, effective, effective)
        );
    }

    function test_amend_RevertWhen_ScheduleInvalid() public {
        ILicenceRegistry.Schedule memory s = _schedule(uint64(block.timestamp + 10 days), 10_001);
        _expectAmendRevert(s, END, abi.encodeWithSelector(ILicenceRegistry.RateTooHigh.selector, 10_001));
        s.rateBps = 500;
        s.fieldRates = new ILicenceRegistry.FieldRate[](1);
        s.fieldRates[0] = fieldRate(9, 100);
        _expectAmendRevert(s, END, abi.encodeWithSelector(ILicenceRegistry.FieldRateOutsideScope.selector, 9));
    }

    function test_amend_RevertWhen_Expired() public {
        vm.warp(END);
        _expectAmendRevert(
            _schedule(uint64(block.timestamp), 600),
            END + YEAR,
            abi.encodeWithSelector(
                ILicenceRegistry.LicenceNotActive.selector, licenceId, ILicenceRegistry.Status.Expired
            )
        );
    }

    function test_amend_RevertWhen_Terminated() public {
        terminateByConsent(licenceId);
        _expectAmendRevert(
            _schedule(uint64(block.timestamp), 600),
            END,
            abi.encodeWithSelector(
                ILicenceRegistry.LicenceNotActive.selector, licenceId, ILicenceRegistry.Status.Terminated
            )
        );
    }

    function test_amend_RevertWhen_UnknownLicence() public {
        ILicenceRegistry.Schedule memory s = _schedule(uint64(block.timestamp), 600);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.UnknownLicence.selector, 42));
        registry.amend(42, s, END, uint64(block.timestamp), "", "");
    }
}
