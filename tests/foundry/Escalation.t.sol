// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {LicenceEscalator} from "../../contracts/LicenceEscalator.sol";
import {ILicenceEscalator} from "../../contracts/interfaces/ILicenceEscalator.sol";
import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {EscalationMath} from "../../contracts/libraries/EscalationMath.sol";
import {Base} from "./Base.t.sol";

/// @notice Index-linked escalation. The default licence starts 2023-11-15 (1,700,006,400) with
/// contract years on its anniversary: year 1 begins 2024-11-15 (1,731,628,800, 366 days later:
/// 2024 is a leap year), year 2 on 2025-11-15 (1,763,164,800). Periods are 90 days, so period 4
/// (from START + 360 days) begins before the first anniversary and period 5 (START + 450 days)
/// after it. The clause compares September's index: step 1 September 2024 over September 2023.
/// Index values are points times 10^6.
contract EscalationTest is Base {
    LicenceEscalator internal escalator;
    uint256 internal licenceId;

    bytes16 internal constant CPI = "US-CPI-U";
    bytes16 internal constant CHAINED = "US-C-CPI-U";
    uint32 internal constant BASE_MONTH = 202_309;
    uint64 internal constant YEAR1 = 1_731_628_800;
    uint64 internal constant YEAR2 = 1_763_164_800;
    uint128 internal constant CENT = 10_000; // 0.01 of a 6-decimal dollar

    // 300.000 -> 309.300: +3.1% exactly (ratio 3,093 / 3,000)
    uint64 internal constant SEP23 = 300_000_000;
    uint64 internal constant SEP24 = 309_300_000;

    function setUp() public override {
        super.setUp();
        escalator = new LicenceEscalator(registry);
        bytes32 role = registry.ESCALATOR_ROLE();
        vm.prank(admin);
        registry.grantRole(role, address(escalator));
        licenceId = _registerWith(_fullSchedule());
    }

    // ------------------------------------------------------------------ helpers

    /// @dev 1,000.00 a period, 2.50 a unit, 50,000.00 guaranteed a year, 5% of net sales.
    function _fullSchedule() private pure returns (ILicenceRegistry.Schedule memory s) {
        s.fixedFeePerPeriod = 1_000 * USD;
        s.perUnit = 2_500_000;
        s.minimumGuarantee = 50_000 * USD;
        s.rateBps = 500;
    }

    function _registerWith(ILicenceRegistry.Schedule memory s) private returns (uint256 id) {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule = s;
        t.salt = bytes32(registry.licenceCount() + 1);
        id = registerFunded(t, 10_000_000 * USD);
    }

    function _clause() private pure returns (ILicenceEscalator.Clause memory c) {
        c = ILicenceEscalator.Clause({
            index: CPI,
            successor: CHAINED,
            baseMonth: BASE_MONTH,
            targets: EscalationMath.ALL_TARGETS,
            upwardOnly: false,
            floorBps: -10_000,
            capBps: 0,
            rounding: EscalationMath.ROUND_DOWN,
            roundTo: CENT
        });
    }

    function _attach(uint256 id, ILicenceEscalator.Clause memory c) private {
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = escalator.attachDigest(id, c, deadline);
        vm.prank(relayer);
        escalator.attach(id, c, deadline, sign(licensorKey, digest), sign(licenseeKey, digest));
    }

    function _values(uint256 id, uint32 n, bytes16 index, uint64 fromValue, uint64 toValue)
        private
        view
        returns (ILicenceEscalator.IndexStep memory v)
    {
        v = ILicenceEscalator.IndexStep({
            licenceId: id,
            step: n,
            index: index,
            fromMonth: escalator.stepMonth(id, n - 1),
            fromValue: fromValue,
            toMonth: escalator.stepMonth(id, n),
            toValue: toValue,
            deadline: uint64(block.timestamp + 1 days)
        });
    }

    function _sign(ILicenceEscalator.IndexStep memory v) private view returns (bytes[] memory sigs) {
        bytes32 digest = escalator.stepDigest(v);
        sigs = new bytes[](THRESHOLD);
        for (uint256 i; i < THRESHOLD; ++i) {
            sigs[i] = sign(sortedOracleKeys[i], digest);
        }
    }

    function _step(ILicenceEscalator.IndexStep memory v) private returns (uint32 version) {
        bytes[] memory sigs = _sign(v);
        vm.prank(stranger); // permissionless
        version = escalator.step(v, sigs);
    }

    function _expectStepRevert(ILicenceEscalator.IndexStep memory v, bytes memory expected) private {
        bytes[] memory sigs = _sign(v);
        vm.expectRevert(expected);
        escalator.step(v, sigs);
    }

    function _expectAttachRevert(ILicenceEscalator.Clause memory c, bytes memory expected) private {
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = escalator.attachDigest(licenceId, c, deadline);
        (bytes memory a, bytes memory b) = (sign(licensorKey, digest), sign(licenseeKey, digest));
        vm.expectRevert(expected);
        escalator.attach(licenceId, c, deadline, a, b);
    }

    // ------------------------------------------------------------------ calendar of steps

    function test_stepMonths_AndAnniversaries() public {
        _attach(licenceId, _clause());
        assertEq(escalator.stepMonth(licenceId, 0), 202_309);
        assertEq(escalator.stepMonth(licenceId, 1), 202_409);
        assertEq(escalator.stepMonth(licenceId, 2), 202_509);
        (uint64 y1,,,) = registry.contractYearBounds(licenceId, 1);
        (uint64 y2,,,) = registry.contractYearBounds(licenceId, 2);
        assertEq(y1, YEAR1);
        assertEq(y2, YEAR2);
        assertEq(EscalationMath.addMonths(202_411, 2), 202_501);
        assertEq(EscalationMath.addMonths(202_412, 12), 202_512);
        assertEq(EscalationMath.addMonths(202_401, 11), 202_412);
    }

    // ------------------------------------------------------------------ one step, every target

    /// @dev +3.1%, rounded down to the cent: fee 1,000.00 -> 1,031.00; per unit 2.50 -> 2.5775 ->
    /// 2.57; guarantee 50,000.00 -> 51,550.00; rate 500 bps -> 515.5 -> 515.
    function test_step_EscalatesEveryTargetAtTheAnniversary() public {
        _attach(licenceId, _clause());
        vm.warp(YEAR1 - 30 days); // September 2024's index is out in mid-October
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, SEP24);
        vm.expectEmit(true, true, true, true, address(escalator));
        emit ILicenceEscalator.Escalated(
            licenceId,
            1,
            CPI,
            202_309,
            SEP23,
            202_409,
            SEP24,
            ILicenceEscalator.Applied(SEP24, SEP23, ILicenceEscalator.Limit.None, YEAR1, 1)
        );
        assertEq(_step(v), 1);

        assertEq(escalator.stepsApplied(licenceId), 1);
        assertEq(registry.scheduleCount(licenceId), 2);
        ILicenceRegistry.Schedule memory before = registry.scheduleAt(licenceId, YEAR1 - 1);
        ILicenceRegistry.Schedule memory s = registry.scheduleAt(licenceId, YEAR1);
        assertEq(before.rateBps, 500);
        assertEq(before.fixedFeePerPeriod, 1_000 * USD);
        assertEq(s.effectiveFrom, YEAR1);
        assertEq(s.fixedFeePerPeriod, 1_031 * USD);
        assertEq(s.perUnit, 2_570_000);
        assertEq(s.minimumGuarantee, 51_550 * USD);
        assertEq(s.rateBps, 515);
        assertEq(registry.minimumGuaranteeAt(licenceId, YEAR1), 51_550 * USD);
    }

    function test_step_RoundingToNearestAndUp() public {
        ILicenceEscalator.Clause memory c = _clause();
        c.rounding = EscalationMath.ROUND_NEAREST;
        _attach(licenceId, c);
        uint256 other = _registerWith(_fullSchedule());
        c.rounding = EscalationMath.ROUND_UP;
        c.roundTo = USD; // whole dollars
        _attach(other, c);
        vm.warp(YEAR1 - 30 days);
        _step(_values(licenceId, 1, CPI, SEP23, SEP24));
        _step(_values(other, 1, CPI, SEP23, SEP24));

        // Nearest cent: 2.5775 -> 2.58; 515.5 bps -> 516 (halves up).
        ILicenceRegistry.Schedule memory s = registry.scheduleAt(licenceId, YEAR1);
        assertEq(s.perUnit, 2_580_000);
        assertEq(s.rateBps, 516);
        assertEq(s.fixedFeePerPeriod, 1_031 * USD);
        // Up to the dollar: 2.5775 -> 3.00; 515.5 bps -> 516; exact amounts stay exact.
        s = registry.scheduleAt(other, YEAR1);
        assertEq(s.perUnit, 3 * USD);
        assertEq(s.rateBps, 516);
        assertEq(s.minimumGuarantee, 51_550 * USD);
    }

    /// @dev Only the targets named change: here the fee and the tier thresholds and rates of a
    /// tiered schedule (0: 4%, 100,000.00: 6%, 250,000.00: 8%), +3.1%: thresholds 103,100.00 and
    /// 257,750.00, rates 412.4 -> 412, 618.6 -> 618, 824.8 -> 824.
    function test_step_OnlyTheNamedTargets() public {
        ILicenceRegistry.Schedule memory tiered = _fullSchedule();
        tiered.rateBps = 0;
        tiered.tiers = new ILicenceRegistry.Tier[](3);
        tiered.tiers[0] = tier(0, 400);
        tiered.tiers[1] = tier(100_000 * USD, 600);
        tiered.tiers[2] = tier(250_000 * USD, 800);
        tiered.fieldRates = new ILicenceRegistry.FieldRate[](1);
        tiered.fieldRates[0] = fieldRate(2, 300);
        uint256 id = _registerWith(tiered);
        ILicenceEscalator.Clause memory c = _clause();
        c.targets = EscalationMath.FEE | EscalationMath.THRESHOLDS | EscalationMath.RATES;
        _attach(id, c);
        vm.warp(YEAR1 - 30 days);
        _step(_values(id, 1, CPI, SEP23, SEP24));

        ILicenceRegistry.Schedule memory s = registry.scheduleAt(id, YEAR1);
        assertEq(s.fixedFeePerPeriod, 1_031 * USD);
        assertEq(s.perUnit, 2_500_000); // not named
        assertEq(s.minimumGuarantee, 50_000 * USD); // not named
        assertEq(s.tiers[0].threshold, 0);
        assertEq(s.tiers[1].threshold, 103_100 * USD);
        assertEq(s.tiers[2].threshold, 257_750 * USD);
        assertEq(s.tiers[0].rateBps, 412);
        assertEq(s.tiers[1].rateBps, 618);
        assertEq(s.tiers[2].rateBps, 824);
        assertEq(s.fieldRates[0].rateBps, 309);
    }

    /// @dev A rate never escalates above 100%: 9,800 bps +3.1% is 10,103.8, held to 10,000.
    function test_step_RateHeldAtOneHundredPercent() public {
        ILicenceRegistry.Schedule memory s0;
        s0.rateBps = 9_800;
        uint256 id = _registerWith(s0);
        ILicenceEscalator.Clause memory c = _clause();
        c.targets = EscalationMath.RATES;
        _attach(id, c);
        vm.warp(YEAR1 - 30 days);
        _step(_values(id, 1, CPI, SEP23, SEP24));
        assertEq(registry.scheduleAt(id, YEAR1).rateBps, 10_000);
    }

    // ------------------------------------------------------------------ the settlement uses it

    /// @dev Rate only: period 4 began before the anniversary and keeps 5% (100,000.00 -> 5,000.00);
    /// period 5 began after it and is priced at 5.15% (5,150.00), even though both are reported
    /// after the step.
    function test_settlement_PeriodsAfterTheAnniversaryOnly() public {
        ILicenceRegistry.Schedule memory rateOnly;
        rateOnly.rateBps = 500;
        uint256 id = _registerWith(rateOnly);
        _attach(id, _clause());
        vm.warp(YEAR1 - 30 days);
        _step(_values(id, 1, CPI, SEP23, SEP24));
        assertEq(ledger.settlement(settlePeriod(id, 4, 100_000 * USD)).royalty, 5_000 * USD);
        assertEq(ledger.settlement(settlePeriod(id, 5, 100_000 * USD)).royalty, 5_150 * USD);
    }

    /// @dev A step made after its anniversary (the index came out late) still takes effect at the
    /// anniversary when no period that began since has been settled: made on START + 500 days,
    /// inside period 5 (START + 450 to 540 days), which began after the anniversary (START + 366
    /// days) and is not settled yet: period 5 is priced at 5.15%, period 4 (began before) at 5%.
    function test_step_LateStepStillFromTheAnniversary() public {
        ILicenceRegistry.Schedule memory rateOnly;
        rateOnly.rateBps = 500;
        uint256 id = _registerWith(rateOnly);
        _attach(id, _clause());
        settlePeriod(id, 3, 100_000 * USD); // before the anniversary: irrelevant
        vm.warp(START + 500 days);
        ILicenceEscalator.IndexStep memory v = _values(id, 1, CPI, SEP23, SEP24);
        vm.expectEmit(true, true, true, true, address(escalator));
        emit ILicenceEscalator.Escalated(
            id,
            1,
            CPI,
            202_309,
            SEP23,
            202_409,
            SEP24,
            ILicenceEscalator.Applied(SEP24, SEP23, ILicenceEscalator.Limit.None, YEAR1, 1)
        );
        _step(v);
        assertEq(ledger.settlement(settlePeriod(id, 4, 100_000 * USD)).royalty, 5_000 * USD);
        assertEq(ledger.settlement(settlePeriod(id, 5, 100_000 * USD)).royalty, 5_150 * USD);
    }

    /// @dev When a period that began after the anniversary has been settled at the old schedule,
    /// a late step takes effect from the period after the latest such one, never repricing it:
    /// period 5 settled at 5% (5,000.00); the step made in period 6 takes effect at period 6's
    /// start (START + 540 days), so period 6 is priced at 5.15% (5,150.00).
    function test_step_LateStepAfterASettledPeriod() public {
        ILicenceRegistry.Schedule memory rateOnly;
        rateOnly.rateBps = 500;
        uint256 id = _registerWith(rateOnly);
        _attach(id, _clause());
        assertEq(ledger.settlement(settlePeriod(id, 5, 100_000 * USD)).royalty, 5_000 * USD);
        vm.warp(START + 560 days); // inside period 6
        ILicenceEscalator.IndexStep memory v = _values(id, 1, CPI, SEP23, SEP24);
        vm.expectEmit(true, true, true, true, address(escalator));
        emit ILicenceEscalator.Escalated(
            id,
            1,
            CPI,
            202_309,
            SEP23,
            202_409,
            SEP24,
            ILicenceEscalator.Applied(SEP24, SEP23, ILicenceEscalator.Limit.None, periodStart(6), 1)
        );
        _step(v);
        assertEq(periodStart(6), START + 540 days);
        assertEq(registry.scheduleAt(id, periodStart(6) - 1).rateBps, 500);
        assertEq(registry.scheduleAt(id, periodStart(6)).rateBps, 515);
        assertEq(ledger.settlement(settlePeriod(id, 6, 100_000 * USD)).royalty, 5_150 * USD);
    }

    // ------------------------------------------------------------------ floor, cap, upward only

    /// @dev Cap 2.5%: +3.1% is held to 10,250 / 10,000: fee 1,025.00, rate 512.5 -> 512.
    function test_step_HeldToTheCap() public {
        ILicenceEscalator.Clause memory c = _clause();
        c.capBps = 250;
        _attach(licenceId, c);
        vm.warp(YEAR1 - 30 days);
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, SEP24);
        vm.expectEmit(true, true, true, true, address(escalator));
        emit ILicenceEscalator.Escalated(
            licenceId,
            1,
            CPI,
            202_309,
            SEP23,
            202_409,
            SEP24,
            ILicenceEscalator.Applied(10_250, 10_000, ILicenceEscalator.Limit.Cap, YEAR1, 1)
        );
        _step(v);
        ILicenceRegistry.Schedule memory s = registry.scheduleAt(licenceId, YEAR1);
        assertEq(s.fixedFeePerPeriod, 1_025 * USD);
        assertEq(s.rateBps, 512);
    }

    /// @dev Floor 2%: +1% (300.000 -> 303.000) is raised to 10,200 / 10,000: fee 1,020.00.
    function test_step_RaisedToTheFloor() public {
        ILicenceEscalator.Clause memory c = _clause();
        c.floorBps = 200;
        c.capBps = 500;
        _attach(licenceId, c);
        vm.warp(YEAR1 - 30 days);
        _step(_values(licenceId, 1, CPI, SEP23, 303_000_000));
        assertEq(registry.scheduleAt(licenceId, YEAR1).fixedFeePerPeriod, 1_020 * USD);
    }

    /// @dev The index falls 1% (300.000 -> 297.000). Upward only: nothing changes (ratio 1), a
    /// version is still appended so the statement shows the step. Without it and without a floor:
    /// fee 990.00, rate 495.
    function test_step_UpwardOnlyAgainstAFall() public {
        ILicenceEscalator.Clause memory c = _clause();
        c.upwardOnly = true; // its floor of -100% is raised to 0
        _attach(licenceId, c);
        uint256 other = _registerWith(_fullSchedule());
        _attach(other, _clause());
        vm.warp(YEAR1 - 30 days);
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, 297_000_000);
        vm.expectEmit(true, true, true, true, address(escalator));
        emit ILicenceEscalator.Escalated(
            licenceId,
            1,
            CPI,
            202_309,
            SEP23,
            202_409,
            297_000_000,
            ILicenceEscalator.Applied(10_000, 10_000, ILicenceEscalator.Limit.Floor, YEAR1, 1)
        );
        _step(v);
        _step(_values(other, 1, CPI, SEP23, 297_000_000));
        assertEq(registry.scheduleAt(licenceId, YEAR1).fixedFeePerPeriod, 1_000 * USD);
        assertEq(registry.scheduleAt(licenceId, YEAR1).rateBps, 500);
        assertEq(registry.scheduleAt(other, YEAR1).fixedFeePerPeriod, 990 * USD);
        assertEq(registry.scheduleAt(other, YEAR1).rateBps, 495);
    }

    // ------------------------------------------------------------------ successive steps, successor

    /// @dev Step 2 compounds on step 1's rounded amounts, here on the successor at both ends (the
    /// index was discontinued; chained CPI 180.000 -> 183.600, +2%): fee 1,031.00 -> 1,051.62;
    /// per unit 2.57 -> 2.6214 -> 2.62; rate 515 -> 525.3 -> 525.
    function test_step_CompoundsOnTheSuccessor() public {
        _attach(licenceId, _clause());
        vm.warp(YEAR1 - 30 days);
        _step(_values(licenceId, 1, CPI, SEP23, SEP24));
        vm.warp(YEAR2 - 30 days);
        _step(_values(licenceId, 2, CHAINED, 180_000_000, 183_600_000));
        ILicenceRegistry.Schedule memory s = registry.scheduleAt(licenceId, YEAR2);
        assertEq(s.effectiveFrom, YEAR2);
        assertEq(s.fixedFeePerPeriod, 1_051_620_000);
        assertEq(s.perUnit, 2_620_000);
        assertEq(s.rateBps, 525);
        assertEq(registry.scheduleCount(licenceId), 3);
        assertEq(escalator.stepsApplied(licenceId), 2);
    }

    function test_step_IndexRefusedOnceSuperseded() public {
        _attach(licenceId, _clause());
        vm.warp(YEAR1 - 30 days);
        _step(_values(licenceId, 1, CHAINED, 180_000_000, 185_000_000));
        vm.warp(YEAR2 - 30 days);
        _expectStepRevert(
            _values(licenceId, 2, CPI, SEP24, 318_579_000),
            abi.encodeWithSelector(ILicenceEscalator.IndexSuperseded.selector, CPI, CHAINED)
        );
    }

    /// @dev On the same series the month a step starts from is the one the last step ended at:
    /// its value cannot differ (309.300 was stepped, 309.400 is signed now).
    function test_step_RevisedValueRefused() public {
        _attach(licenceId, _clause());
        vm.warp(YEAR1 - 30 days);
        _step(_values(licenceId, 1, CPI, SEP23, SEP24));
        vm.warp(YEAR2 - 30 days);
        _expectStepRevert(
            _values(licenceId, 2, CPI, 309_400_000, 318_579_000),
            abi.encodeWithSelector(ILicenceEscalator.IndexValueRevised.selector, 202_409, SEP24, 309_400_000)
        );
    }

    // ------------------------------------------------------------------ bad steps change nothing

    function test_step_ReplayRefused() public {
        _attach(licenceId, _clause());
        vm.warp(YEAR1 - 30 days);
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, SEP24);
        bytes[] memory sigs = _sign(v);
        escalator.step(v, sigs);
        vm.expectRevert(abi.encodeWithSelector(ILicenceEscalator.StepAlreadyApplied.selector, 1, 1));
        escalator.step(v, sigs);
        assertEq(registry.scheduleCount(licenceId), 2);
    }

    function test_step_OutOfOrderRefused() public {
        _attach(licenceId, _clause());
        vm.warp(YEAR1 - 30 days);
        _expectStepRevert(
            _values(licenceId, 2, CPI, SEP24, 318_579_000),
            abi.encodeWithSelector(ILicenceEscalator.StepOutOfOrder.selector, 2, 1)
        );
    }

    function test_step_ExpiredSignaturesRefused() public {
        _attach(licenceId, _clause());
        vm.warp(YEAR1 - 30 days);
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, SEP24);
        bytes[] memory sigs = _sign(v);
        vm.warp(v.deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(ILicenceEscalator.IndexSignatureExpired.selector, v.deadline, v.deadline + 1)
        );
        escalator.step(v, sigs);
    }

    function test_step_UnknownIndexRefused() public {
        _attach(licenceId, _clause());
        _expectStepRevert(
            _values(licenceId, 1, "UK-RPI", SEP23, SEP24),
            abi.encodeWithSelector(ILicenceEscalator.UnknownIndex.selector, bytes16("UK-RPI"))
        );
    }

    /// @dev An index older than the clause allows: August 2024 where step 1 needs September.
    function test_step_StaleMonthRefused() public {
        _attach(licenceId, _clause());
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, SEP24);
        v.toMonth = 202_408;
        _expectStepRevert(v, abi.encodeWithSelector(ILicenceEscalator.IndexMonthStale.selector, 202_408, 202_409));
        v.toMonth = 202_410;
        _expectStepRevert(
            v, abi.encodeWithSelector(ILicenceEscalator.IndexMonthMismatch.selector, 202_309, 202_410, 202_309, 202_409)
        );
        v.toMonth = 202_409;
        v.fromMonth = 202_310;
        _expectStepRevert(
            v, abi.encodeWithSelector(ILicenceEscalator.IndexMonthMismatch.selector, 202_310, 202_409, 202_309, 202_409)
        );
    }

    function test_step_ZeroAndAbsurdValuesRefused() public {
        _attach(licenceId, _clause());
        _expectStepRevert(
            _values(licenceId, 1, CPI, 0, SEP24),
            abi.encodeWithSelector(ILicenceEscalator.IndexValueZero.selector, 202_309)
        );
        _expectStepRevert(
            _values(licenceId, 1, CPI, SEP23, 0),
            abi.encodeWithSelector(ILicenceEscalator.IndexValueZero.selector, 202_409)
        );
        // 300.000 -> 600.001: more than doubled (a scale mixed up, not an economy)
        _expectStepRevert(
            _values(licenceId, 1, CPI, SEP23, 600_000_001),
            abi.encodeWithSelector(ILicenceEscalator.IndexChangeImplausible.selector, SEP23, 600_000_001)
        );
        _expectStepRevert(
            _values(licenceId, 1, CPI, SEP23, 149_999_999),
            abi.encodeWithSelector(ILicenceEscalator.IndexChangeImplausible.selector, SEP23, 149_999_999)
        );
        assertEq(registry.scheduleCount(licenceId), 1);
    }

    function test_step_WrongSignerRefused() public {
        _attach(licenceId, _clause());
        vm.warp(YEAR1 - 30 days);
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, SEP24);
        bytes[] memory sigs = _sign(v);
        sigs[1] = sign(strangerKey, escalator.stepDigest(v));
        vm.expectRevert(abi.encodeWithSelector(ILicenceEscalator.UnknownSigner.selector, 1, stranger));
        escalator.step(v, sigs);
    }

    /// @dev Values signed for one licence do not step another: the licence is in the digest, so
    /// the signatures recover to strangers.
    function test_step_OtherLicencesSignaturesRefused() public {
        uint256 other = _registerWith(_fullSchedule());
        _attach(licenceId, _clause());
        _attach(other, _clause());
        vm.warp(YEAR1 - 30 days);
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, SEP24);
        bytes[] memory sigs = _sign(v);
        v.licenceId = other;
        address recovered = vm.addr(1); // overwritten below
        (recovered,) = _recover(escalator.stepDigest(v), sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(ILicenceEscalator.UnknownSigner.selector, 0, recovered));
        escalator.step(v, sigs);
        assertEq(escalator.stepsApplied(other), 0);
    }

    function test_step_SignatureCountAndOrder() public {
        _attach(licenceId, _clause());
        vm.warp(YEAR1 - 30 days);
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, SEP24);
        bytes[] memory sigs = _sign(v);
        bytes[] memory one = new bytes[](1);
        one[0] = sigs[0];
        vm.expectRevert(abi.encodeWithSelector(ILicenceEscalator.WrongSignatureCount.selector, 1, THRESHOLD));
        escalator.step(v, one);
        (sigs[0], sigs[1]) = (sigs[1], sigs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ILicenceEscalator.SignersNotAscending.selector, 1, vm.addr(sortedOracleKeys[0]))
        );
        escalator.step(v, sigs);
        sigs[0] = new bytes(64); // ECDSA.RecoverError.InvalidSignatureLength (2), its length as detail
        vm.expectRevert(abi.encodeWithSelector(ILicenceEscalator.InvalidSignature.selector, 0, 2, bytes32(uint256(64))));
        escalator.step(v, sigs);
    }

    function test_step_AfterTheTermRefused() public {
        _attach(licenceId, _clause());
        // The term is 3 x 365 days from START; contract year 3 begins 2026-11-15 (START + 1,096
        // days), after END (START + 1,095 days).
        vm.warp(YEAR1 - 30 days);
        _step(_values(licenceId, 1, CPI, SEP23, SEP24));
        vm.warp(YEAR2 - 30 days);
        _step(_values(licenceId, 2, CPI, SEP24, 318_579_000));
        (uint64 year3,,,) = registry.contractYearBounds(licenceId, 3);
        vm.warp(END - 30 days);
        _expectStepRevert(
            _values(licenceId, 3, CPI, 318_579_000, 320_000_000),
            abi.encodeWithSelector(ILicenceEscalator.StepAfterTerm.selector, 3, year3, END)
        );
    }

    function test_step_WithoutClauseOrInactiveLicenceRefused() public {
        _expectStepRevert(
            _values_unattached(), abi.encodeWithSelector(ILicenceEscalator.NoEscalationClause.selector, licenceId)
        );
        _attach(licenceId, _clause());
        ILicenceEscalator.IndexStep memory v = _values(licenceId, 1, CPI, SEP23, SEP24);
        terminateByConsent(licenceId);
        _expectStepRevert(v, abi.encodeWithSelector(ILicenceEscalator.LicenceNotActive.selector, licenceId));
    }

    function _values_unattached() private view returns (ILicenceEscalator.IndexStep memory v) {
        v = ILicenceEscalator.IndexStep({
            licenceId: licenceId,
            step: 1,
            index: CPI,
            fromMonth: 202_309,
            fromValue: SEP23,
            toMonth: 202_409,
            toValue: SEP24,
            deadline: uint64(block.timestamp + 1 days)
        });
    }

    function test_appendSchedule_OnlyTheEscalator() public {
        ILicenceRegistry.Schedule memory s = _fullSchedule();
        s.effectiveFrom = YEAR1;
        bytes32 role = registry.ESCALATOR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.appendSchedule(licenceId, s);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        registry.appendSchedule(licenceId, s);
    }

    /// @dev The escalator is held to an amendment's rules (after the latest version, before the
    /// end, a valid schedule) but may date a version back (it checks settled periods itself).
    function test_appendSchedule_AmendmentRules() public {
        vm.startPrank(address(escalator));
        ILicenceRegistry.Schedule memory s = _fullSchedule();
        s.effectiveFrom = START;
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.EffectiveDateNotAfterPrevious.selector, START, START));
        registry.appendSchedule(licenceId, s);
        s.effectiveFrom = END;
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.NewEndBeforeEffectiveDate.selector, END, END));
        registry.appendSchedule(licenceId, s);
        s.effectiveFrom = YEAR1;
        s.rateBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.RateTooHigh.selector, 10_001));
        registry.appendSchedule(licenceId, s);
        // Backdated: in force from an hour ago.
        s.rateBps = 600;
        s.effectiveFrom = uint64(block.timestamp - 1 hours);
        registry.appendSchedule(licenceId, s);
        vm.stopPrank();
        assertEq(registry.scheduleAt(licenceId, uint64(block.timestamp)).rateBps, 600);
    }

    // ------------------------------------------------------------------ the clause

    function test_attach_StoresTheClauseBothSigned() public {
        ILicenceEscalator.Clause memory c = _clause();
        vm.expectEmit(true, true, true, true, address(escalator));
        emit ILicenceEscalator.EscalationAttached(licenceId, c);
        _attach(licenceId, c);
        ILicenceEscalator.Clause memory stored = escalator.clauseOf(licenceId);
        assertEq(stored.index, CPI);
        assertEq(stored.successor, CHAINED);
        assertEq(stored.baseMonth, BASE_MONTH);
        assertEq(stored.roundTo, CENT);
        assertEq(stored.floorBps, -10_000);
    }

    function test_attach_BadClausesRefused() public {
        ILicenceEscalator.Clause memory c = _clause();
        c.index = bytes16(0);
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationIndexMissing.selector));
        c = _clause();
        c.successor = CPI;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationSuccessorIsIndex.selector, CPI));
        c = _clause();
        c.baseMonth = 202_313;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationMonthInvalid.selector, 202_313));
        c.baseMonth = 2023;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationMonthInvalid.selector, 2023));
        c = _clause();
        c.targets = 0;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationTargetsInvalid.selector, 0));
        c.targets = 32;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationTargetsInvalid.selector, 32));
        c = _clause();
        c.floorBps = -10_001;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationFloorInvalid.selector, -10_001));
        c = _clause();
        c.floorBps = 300;
        c.capBps = 250;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationFloorAboveCap.selector, 300, 250));
        // Upward only raises the floor to 0: a floor of -2% with a cap of 1% is fine either way.
        c = _clause();
        c.rounding = 3;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationRoundingInvalid.selector, 3, CENT));
        c = _clause();
        c.roundTo = 0;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceEscalator.EscalationRoundingInvalid.selector, 0, 0));
        assertEq(escalator.clauseOf(licenceId).index, bytes16(0));
    }

    function test_attach_ConsentRules() public {
        ILicenceEscalator.Clause memory c = _clause();
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = escalator.attachDigest(licenceId, c, deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        // The licensee's signature missing (the stranger's instead)
        bytes memory wrong = sign(strangerKey, digest);
        vm.expectRevert(abi.encodeWithSelector(ILicenceEscalator.ConsentMissing.selector, licensee));
        escalator.attach(licenceId, c, deadline, licensorSig, wrong);
        // A signature of another clause
        ILicenceEscalator.Clause memory other = _clause();
        other.capBps = 900;
        bytes memory otherSig = sign(licenseeKey, escalator.attachDigest(licenceId, other, deadline));
        vm.expectRevert(abi.encodeWithSelector(ILicenceEscalator.ConsentMissing.selector, licensee));
        escalator.attach(licenceId, c, deadline, licensorSig, otherSig);
        // Expired
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceEscalator.ConsentExpired.selector, deadline, deadline + 1));
        escalator.attach(licenceId, c, deadline, licensorSig, sign(licenseeKey, digest));
        // A party submitting itself needs no signature of its own
        deadline = uint64(block.timestamp + 1 days);
        digest = escalator.attachDigest(licenceId, c, deadline);
        vm.prank(licensee);
        escalator.attach(licenceId, c, deadline, sign(licensorKey, digest), "");
        // Once per licence
        vm.expectRevert(abi.encodeWithSelector(ILicenceEscalator.EscalationClauseExists.selector, licenceId));
        escalator.attach(licenceId, c, deadline, sign(licensorKey, digest), sign(licenseeKey, digest));
    }

    function test_attach_InactiveLicenceRefused() public {
        terminateByConsent(licenceId);
        _expectAttachRevert(_clause(), abi.encodeWithSelector(ILicenceEscalator.LicenceNotActive.selector, licenceId));
    }

    // ------------------------------------------------------------------ arithmetic against a model

    /// @dev An independent model: the ratio by cross-multiplication in signed bps space, the
    /// rounding from the quotient and remainder of Math.mulDiv.
    function _modelScale(uint256 amount, uint256 num, uint256 den, uint8 rounding, uint256 roundTo)
        private
        pure
        returns (uint256)
    {
        uint256 exact = Math.mulDiv(amount, num, den); // floor(amount * num / den)
        uint256 remainderNum = mulmod(amount, num, den); // amount*num - exact*den
        uint256 multiples = exact / roundTo;
        // what is left above the multiple, as a fraction (left * den + remainderNum) / (roundTo * den)
        uint256 left = exact % roundTo;
        bool exactMultiple = left == 0 && remainderNum == 0;
        if (rounding == 2 && !exactMultiple) return (multiples + 1) * roundTo;
        if (rounding == 1) {
            // round half up: compare 2 * (left * den + remainderNum) with roundTo * den
            if (2 * (left * den + remainderNum) >= roundTo * den) return (multiples + 1) * roundTo;
        }
        return multiples * roundTo;
    }

    function testFuzz_scale_MatchesModel(uint128 amount, uint64 from, uint64 to, uint8 rounding, uint64 roundTo)
        public
        pure
    {
        from = uint64(bound(from, 1, type(uint64).max));
        to = uint64(bound(to, 1, type(uint64).max));
        rounding = uint8(bound(rounding, 0, 2));
        roundTo = uint64(bound(roundTo, 1, type(uint64).max));
        assertEq(
            EscalationMath.scale(amount, to, from, rounding, roundTo), _modelScale(amount, to, from, rounding, roundTo)
        );
    }

    function testFuzz_ratio_HeldBetweenFloorAndCap(uint64 from, uint64 to, int16 floorBps, uint16 capBps, bool upward)
        public
        pure
    {
        from = uint64(bound(from, 1, type(uint64).max / 2));
        to = uint64(bound(to, from / 2 + 1, uint256(from) * 2));
        floorBps = int16(bound(floorBps, -10_000, 5_000));
        capBps = uint16(bound(capBps, 0, 10_000));
        ILicenceEscalator.Clause memory c = _clause();
        c.floorBps = floorBps;
        c.capBps = capBps;
        c.upwardOnly = upward;
        int256 floor = upward && floorBps < 0 ? int256(0) : int256(floorBps);
        vm.assume(capBps == 0 || floor <= int256(uint256(capBps)));
        (uint256 num, uint256 den, ILicenceEscalator.Limit limit) = EscalationMath.ratio(c, from, to);
        // The model: the change in bps as a rational, compared with the limits.
        // change >= floor  <=>  to * 10,000 >= from * (10,000 + floor)
        bool belowFloor = int256(uint256(to)) * 10_000 < int256(uint256(from)) * (10_000 + floor);
        bool aboveCap = capBps != 0 && uint256(to) * 10_000 > uint256(from) * (10_000 + uint256(capBps));
        if (belowFloor) {
            assertEq(uint8(limit), uint8(ILicenceEscalator.Limit.Floor));
            assertEq(num, uint256(10_000 + floor));
            assertEq(den, 10_000);
        } else if (aboveCap) {
            assertEq(uint8(limit), uint8(ILicenceEscalator.Limit.Cap));
            assertEq(num, 10_000 + uint256(capBps));
            assertEq(den, 10_000);
        } else {
            assertEq(uint8(limit), uint8(ILicenceEscalator.Limit.None));
            assertEq(num, to);
            assertEq(den, from);
        }
        // Whatever the limit, the applied ratio lies within [floor, cap] (when there is a cap).
        assertGe(num * 10_000, den * uint256(10_000 + floor));
        if (capBps != 0) assertLe(num * 10_000, den * (10_000 + uint256(capBps)));
    }

    function testFuzz_addMonths_MatchesCounting(uint16 year, uint8 month, uint16 months) public pure {
        year = uint16(bound(year, 1900, 9000));
        month = uint8(bound(month, 1, 12));
        months = uint16(bound(months, 0, 12 * 900));
        uint32 start = uint32(year) * 100 + month;
        uint32 got = EscalationMath.addMonths(start, months);
        // Model: step month by month.
        uint256 y = year;
        uint256 m = month;
        for (uint256 i; i < months % 24; ++i) {
            m += 1;
            if (m == 13) (m, y) = (1, y + 1);
        }
        y += (months / 24) * 2;
        assertEq(got, uint32(y * 100 + m));
    }

    function _recover(bytes32 digest, bytes memory sig) private pure returns (address signer, bool ok) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        uint8 v = uint8(sig[64]);
        signer = ecrecover(digest, v, r, s);
        ok = signer != address(0);
    }
}
