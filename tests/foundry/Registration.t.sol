// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {LicenceRegistry} from "../../contracts/LicenceRegistry.sol";
import {RoyaltyLedger} from "../../contracts/RoyaltyLedger.sol";
import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {ERC1271Wallet} from "../../contracts/test/ERC1271Wallet.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";
import {Base} from "./Base.t.sol";
import {console} from "forge-std/console.sol";

contract RegistrationTest is Base {
    // ------------------------------------------------------------------ consent

    function test_register_ByRelayerWithBothSignatures() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        bytes32 digest = registry.registerDigest(t, deadline);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ILicenceRegistry.LicenceRegistered(1, licensor, licensee, t);
        vm.prank(relayer);
        uint256 licenceId = registry.register(t, deadline, licensorSig, licenseeSig);

        assertEq(licenceId, 1);
        assertEq(registry.licenceCount(), 1);
        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Active));
        assertTrue(registry.consentUsed(digest));
        (address storedLicensor, address storedLicensee) = registry.parties(licenceId);
        assertEq(storedLicensor, licensor);
        assertEq(storedLicensee, licensee);
        assertTrue(registry.isOracle(licenceId, oracle1));
        assertTrue(registry.isOracle(licenceId, oracle3));
        assertFalse(registry.isOracle(licenceId, stranger));
        assertEq(registry.scheduleCount(licenceId), 1);

        ILicenceRegistry.SettlementContext memory c = registry.settlementContext(licenceId);
        assertEq(c.start, START);
        assertEq(c.effectiveEnd, END);
        assertEq(c.sellOffEnd, END + 180 days);
        assertEq(c.periodSeconds, PERIOD);
        assertEq(c.threshold, 2);
        assertEq(c.arbiter, arbiter);
        assertEq(c.scope.territories, TERRITORIES);

        (address[] memory payees, uint16[] memory prefixBps) = ledger.payeesOf(licenceId);
        assertEq(payees.length, 2);
        assertEq(payees[0], licensor, "ascending: licensor 0xDbE2... first");
        assertEq(payees[1], coOwner);
        assertEq(prefixBps.length, 3, "running sums of the shares, from 0");
        assertEq(prefixBps[0], 0);
        assertEq(prefixBps[1], 7000);
        assertEq(prefixBps[2], 10_000);
        assertEq(ledger.settlementCount(), 0, "no advance, no settlement");
    }

    function test_register_OpensLicenceInLedger() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        address[] memory accounts = new address[](2);
        accounts[0] = licensor;
        accounts[1] = coOwner;
        uint16[] memory shares = new uint16[](2);
        shares[0] = 7000;
        shares[1] = 3000;
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.LicenceOpened(1, address(token), licensee, accounts, shares, TAX_BPS, taxAccount, 0);
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, licenseeSig);
    }

    function test_register_ByLicensorWithOnlyLicenseeSignature() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 days);
        (, bytes memory licenseeSig) = consent(t, deadline);
        vm.prank(licensor);
        uint256 licenceId = registry.register(t, deadline, "", licenseeSig);
        assertEq(licenceId, 1);
    }

    function test_register_ByLicenseeWithOnlyLicensorSignature() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig,) = consent(t, deadline);
        vm.prank(licensee);
        uint256 licenceId = registry.register(t, deadline, licensorSig, "");
        assertEq(licenceId, 1);
    }

    function test_register_RevertWhen_PartySubmitsWithoutOtherSignature() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 days);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensee));
        vm.prank(licensor);
        registry.register(t, deadline, "", "");
    }

    function test_register_RevertWhen_ConsentReplayed() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        bytes32 digest = registry.registerDigest(t, deadline);
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, licenseeSig);

        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentAlreadyUsed.selector, digest));
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, licenseeSig);
    }

    function test_register_SameTermsTwiceWithNewSalt() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        assertEq(register(t), 1);
        t.salt = bytes32(uint256(1));
        assertEq(register(t), 2);
        assertEq(registry.licenceCount(), 2);
    }

    function test_register_RevertWhen_ConsentExpired() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 hours);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentExpired.selector, deadline, deadline + 1));
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, licenseeSig);
    }

    function test_register_AtDeadlineStillValid() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 hours);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.warp(deadline);
        vm.prank(relayer);
        assertEq(registry.register(t, deadline, licensorSig, licenseeSig), 1);
    }

    function test_register_RevertWhen_WrongSigner() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = registry.registerDigest(t, deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        bytes memory forgedLicenseeSig = sign(strangerKey, digest);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensee));
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, forgedLicenseeSig);

        bytes memory licenseeSig = sign(licenseeKey, digest);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensor));
        vm.prank(relayer);
        registry.register(t, deadline, licenseeSig, licenseeSig);
    }

    function test_register_RevertWhen_SignedTermsDiffer() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        t.schedule.rateBps = 100; // the relayer tries to lower the rate both parties signed
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensor));
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, licenseeSig);
    }

    function test_register_ContractWalletLicensee() public {
        ERC1271Wallet wallet = new ERC1271Wallet(licensee);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.licensee = address(wallet);
        t.advance = 1_000 * USD;
        token.mint(address(wallet), t.advance);
        vm.prank(licensee);
        wallet.execute(address(token), abi.encodeCall(token.approve, (address(ledger), t.advance)));

        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = registry.registerDigest(t, deadline);
        // The wallet's owner signs; the wallet vouches for it through ERC-1271.
        bytes memory walletSig = sign(licenseeKey, digest);
        bytes memory licensorSig = sign(licensorKey, digest);
        vm.prank(relayer);
        uint256 licenceId = registry.register(t, deadline, licensorSig, walletSig);

        (, address storedLicensee) = registry.parties(licenceId);
        assertEq(storedLicensee, address(wallet));
        assertEq(token.balanceOf(address(wallet)), 0, "advance pulled from the wallet");
        assertEq(ledger.advanceRemaining(licenceId), 1_000 * USD);
    }

    function test_register_RevertWhen_ContractWalletSignatureByNonOwner() public {
        ERC1271Wallet wallet = new ERC1271Wallet(licensee);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.licensee = address(wallet);
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = registry.registerDigest(t, deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        bytes memory badWalletSig = sign(strangerKey, digest);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, address(wallet)));
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, badWalletSig);
    }

    function test_register_RevertWhen_SignedForOtherRegistry() public {
        LicenceRegistry other = new LicenceRegistry(admin);
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 otherDigest = other.registerDigest(t, deadline);
        bytes memory licensorSig = sign(licensorKey, otherDigest);
        bytes memory licenseeSig = sign(licenseeKey, otherDigest);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensor));
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, licenseeSig);
    }

    // ------------------------------------------------------------------ advance

    function test_register_AdvancePaidAndCreditedAtOnce() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.advance = 10_000 * USD;
        token.mint(licensee, t.advance);
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(1, 1, IRoyaltyLedger.Kind.Advance, 0, 10_000 * USD, 0, 10_000 * USD, 10_000 * USD, false, uint64(block.timestamp));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Released(1, 1, 10_000 * USD, 1_000 * USD, 9_000 * USD);
        vm.prank(relayer);
        uint256 licenceId = registry.register(t, deadline, licensorSig, licenseeSig);

        assertEq(token.balanceOf(licensee), 0);
        assertEq(token.balanceOf(address(ledger)), 10_000 * USD);
        assertEq(ledger.advanceRemaining(licenceId), 10_000 * USD);
        assertEq(ledger.claimable(licenceId, licensor), 6_300 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 2_700 * USD);
        assertEq(ledger.taxClaimable(licenceId), 1_000 * USD);
        assertSettlement(1, IRoyaltyLedger.State.Final, 10_000 * USD, 10_000 * USD, 10_000 * USD, 10_000 * USD);
        assertEq(uint8(ledger.settlement(1).kind), uint8(IRoyaltyLedger.Kind.Advance));
    }

    // ------------------------------------------------------------------ invalid terms

    function _expectRegisterRevert(ILicenceRegistry.Terms memory t, bytes memory expected) private {
        uint64 deadline = uint64(block.timestamp + 1 days);
        vm.expectRevert(expected);
        vm.prank(relayer);
        registry.register(t, deadline, "", "");
    }

    function test_register_RevertWhen_LicensorZero() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.licensor = address(0);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ZeroAddress.selector, "licensor"));
    }

    function test_register_RevertWhen_LicenseeZero() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.licensee = address(0);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ZeroAddress.selector, "licensee"));
    }

    function test_register_RevertWhen_SameLicensorAndLicensee() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.licensee = licensor;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.SameLicensorAndLicensee.selector, licensor));
    }

    function test_register_RevertWhen_ArbiterZero() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.arbiter = address(0);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ZeroAddress.selector, "arbiter"));
    }

    function test_register_RevertWhen_ArbiterIsParty() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.arbiter = licensee;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ArbiterIsParty.selector, licensee));
        t.arbiter = licensor;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ArbiterIsParty.selector, licensor));
    }

    function test_register_RevertWhen_TermEndNotAfterStart() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.end = START;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TermEndNotAfterStart.selector, START, START));
    }

    function test_register_RevertWhen_PeriodLengthZero() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.periodSeconds = 0;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.PeriodLengthZero.selector));
    }

    function test_register_RevertWhen_EmptyScope() public {
        bytes memory expected = abi.encodeWithSelector(ILicenceRegistry.EmptyScope.selector);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.scope.territories = 0;
        _expectRegisterRevert(t, expected);
        t = defaultTerms();
        t.scope.fields = 0;
        _expectRegisterRevert(t, expected);
        t = defaultTerms();
        t.scope.channels = 0;
        _expectRegisterRevert(t, expected);
    }

    function test_register_RevertWhen_TokenNotAllowed() public {
        TestToken other = new TestToken("Other", "OTH", 18);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.token = address(other);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TokenNotAllowed.selector, address(other)));
    }

    function test_register_RevertWhen_TokenDisallowedAgain() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit ILicenceRegistry.TokenAllowed(address(token), false);
        vm.prank(admin);
        registry.setTokenAllowed(address(token), false);
        _expectRegisterRevert(
            defaultTerms(), abi.encodeWithSelector(ILicenceRegistry.TokenNotAllowed.selector, address(token))
        );
    }

    function test_register_RevertWhen_NoPayees() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees = new ILicenceRegistry.Payee[](0);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.NoPayees.selector));
    }

    function test_register_RevertWhen_TooManyPayees() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees = new ILicenceRegistry.Payee[](501);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TooManyPayees.selector, 501, 500));
    }

    function test_register_RevertWhen_PayeeZero() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees[1].account = address(0);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ZeroAddress.selector, "payee"));
    }

    function test_register_RevertWhen_ZeroShare() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees[1].shareBps = 0;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ZeroShare.selector, coOwner));
    }

    function test_register_RevertWhen_DuplicatePayee() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees[1].account = licensor;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.DuplicatePayee.selector, licensor));
    }

    function test_register_RevertWhen_PayeesNotAscending() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        (t.payees[0], t.payees[1]) = (t.payees[1], t.payees[0]); // coOwner (0xEFf5) before licensor (0xDbE2)
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.PayeesNotAscending.selector, 1, licensor));

        // payee2 (0x9b01) < payee1 (0xFc71) < payee0 (0xFd40): the third is smaller than the second.
        t.payees = new ILicenceRegistry.Payee[](3);
        t.payees[0] = ILicenceRegistry.Payee({account: payeeNamed(2), shareBps: 3000});
        t.payees[1] = ILicenceRegistry.Payee({account: payeeNamed(0), shareBps: 3000});
        t.payees[2] = ILicenceRegistry.Payee({account: payeeNamed(1), shareBps: 4000});
        _expectRegisterRevert(
            t, abi.encodeWithSelector(ILicenceRegistry.PayeesNotAscending.selector, 2, payeeNamed(1))
        );
        // Sorted, the same payees register.
        sortPayees(t.payees);
        assertEq(t.payees[1].account, payeeNamed(1));
        register(t);
    }

    function test_register_RevertWhen_DuplicatePayeeAmongThree() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees = new ILicenceRegistry.Payee[](3);
        t.payees[0] = ILicenceRegistry.Payee({account: payeeNamed(2), shareBps: 3000});
        t.payees[1] = ILicenceRegistry.Payee({account: payeeNamed(1), shareBps: 3000});
        t.payees[2] = ILicenceRegistry.Payee({account: payeeNamed(1), shareBps: 4000});
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.DuplicatePayee.selector, payeeNamed(1)));

        // A duplicate that is not a neighbour breaks the order first.
        t.payees[2].account = payeeNamed(2);
        _expectRegisterRevert(
            t, abi.encodeWithSelector(ILicenceRegistry.PayeesNotAscending.selector, 2, payeeNamed(2))
        );
    }

    function test_register_500PayeesFitABlock() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        uint16[] memory shares = new uint16[](500);
        for (uint256 i; i < 500; ++i) {
            shares[i] = 20;
        }
        t.payees = namedPayees(shares);
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.prank(relayer);
        uint256 gas = gasleft();
        uint256 licenceId = registry.register(t, deadline, licensorSig, licenseeSig);
        gas -= gasleft();
        console.log("register: 500 payees (MAX_PAYEES)", gas);
        // Measured inside the test's transaction: the 21,000 base and calldata costs come on top.
        assertLt(gas, 30_000_000, "fits a 30M block");
        // Registration only commits to a list this long; anyone publishes it, once.
        publishPayees(licenceId, t.payees);
        (address[] memory payees, uint16[] memory prefixBps) = ledger.payeesOf(licenceId);
        assertEq(payees.length, 500);
        assertEq(prefixBps.length, 501);
        assertEq(prefixBps[500], 10_000);
        assertEq(payees[499], t.payees[499].account);
    }

    function test_register_RevertWhen_SharesNotTenThousand() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees[1].shareBps = 2999;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.SharesNotTenThousand.selector, 9999));
        t.payees[1].shareBps = 3001;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.SharesNotTenThousand.selector, 10_001));
    }

    function test_register_RevertWhen_TaxShareTooHigh() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.taxBps = 10_000;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TaxShareTooHigh.selector, 10_000));
    }

    function test_register_RevertWhen_TaxAccountMissing() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.taxAccount = address(0);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TaxAccountMissing.selector));
    }

    function test_register_WithoutTaxNeedsNoTaxAccount() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.taxBps = 0;
        t.taxAccount = address(0);
        assertEq(register(t), 1);
    }

    function test_register_RevertWhen_ThresholdOutOfRange() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.threshold = 0;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ThresholdOutOfRange.selector, 0, 3));
        t.threshold = 4;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ThresholdOutOfRange.selector, 4, 3));
        t.oracles = new address[](0);
        t.threshold = 1;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ThresholdOutOfRange.selector, 1, 0));
    }

    function test_register_RevertWhen_OracleZero() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.oracles[2] = address(0);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ZeroAddress.selector, "oracle"));
    }

    function test_register_RevertWhen_DuplicateOracle() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.oracles[2] = oracle1;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.DuplicateOracle.selector, oracle1));
    }

    function test_register_RevertWhen_TooManyOracles() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.oracles = new address[](17);
        for (uint256 i; i < 17; ++i) {
            t.oracles[i] = address(uint160(0x1000 + i));
        }
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TooManyOracles.selector, 17, 16));
    }

    function test_register_RevertWhen_RateTooHigh() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.rateBps = 10_001;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.RateTooHigh.selector, 10_001));
    }

    function test_register_RevertWhen_TierRateTooHigh() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.rateBps = 0;
        t.schedule.tiers = new ILicenceRegistry.Tier[](2);
        t.schedule.tiers[0] = tier(0, 500);
        t.schedule.tiers[1] = tier(1_000 * USD, 10_001);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.RateTooHigh.selector, 10_001));
    }

    function test_register_RevertWhen_FieldRateTooHigh() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.fieldRates = new ILicenceRegistry.FieldRate[](1);
        t.schedule.fieldRates[0] = fieldRate(1, 12_000);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.RateTooHigh.selector, 12_000));
    }

    function test_register_RevertWhen_TiersAndBaseRate() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.tiers = new ILicenceRegistry.Tier[](1);
        t.schedule.tiers[0] = tier(0, 300);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TiersAndBaseRate.selector, RATE_BPS));
    }

    function test_register_RevertWhen_FirstTierNotZero() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.rateBps = 0;
        t.schedule.tiers = new ILicenceRegistry.Tier[](1);
        t.schedule.tiers[0] = tier(1, 300);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.FirstTierNotZero.selector, 1));
    }

    function test_register_RevertWhen_TiersOutOfOrder() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.rateBps = 0;
        t.schedule.tiers = new ILicenceRegistry.Tier[](3);
        t.schedule.tiers[0] = tier(0, 300);
        t.schedule.tiers[1] = tier(500, 400);
        t.schedule.tiers[2] = tier(500, 500);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TiersOutOfOrder.selector, 2, 500, 500));
    }

    function test_register_RevertWhen_DuplicateFieldRate() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.fieldRates = new ILicenceRegistry.FieldRate[](2);
        t.schedule.fieldRates[0] = fieldRate(1, 800);
        t.schedule.fieldRates[1] = fieldRate(1, 300);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.DuplicateFieldRate.selector, 1));
    }

    function test_register_RevertWhen_FieldRateOutsideScope() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.fieldRates = new ILicenceRegistry.FieldRate[](1);
        t.schedule.fieldRates[0] = fieldRate(4, 800); // fields 0..3 are licensed
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.FieldRateOutsideScope.selector, 4));
        t.schedule.fieldRates[0] = fieldRate(64, 800);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.FieldRateOutsideScope.selector, 64));
    }

    // ------------------------------------------------------------------ wiring and roles

    function test_constructor_RevertWhen_AdminZero() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ZeroAddress.selector, "admin"));
        new LicenceRegistry(address(0));
    }

    function test_register_RevertWhen_LedgerNotSet() public {
        LicenceRegistry fresh = new LicenceRegistry(admin);
        ILicenceRegistry.Terms memory t = defaultTerms();
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.LedgerNotSet.selector));
        fresh.register(t, uint64(block.timestamp), "", "");
    }

    function test_setLedger_RevertWhen_AlreadySet() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.LedgerAlreadySet.selector, address(ledger)));
        vm.prank(admin);
        registry.setLedger(IRoyaltyLedger(address(0xBEEF)));
    }

    function test_setLedger_RevertWhen_Zero() public {
        LicenceRegistry fresh = new LicenceRegistry(admin);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ZeroAddress.selector, "ledger"));
        vm.prank(admin);
        fresh.setLedger(IRoyaltyLedger(address(0)));
    }

    function test_setLedger_EmitsLedgerSet() public {
        LicenceRegistry fresh = new LicenceRegistry(admin);
        RoyaltyLedger freshLedger = deployLedger(fresh);
        vm.expectEmit(true, true, true, true, address(fresh));
        emit ILicenceRegistry.LedgerSet(address(freshLedger));
        vm.prank(admin);
        fresh.setLedger(freshLedger);
        assertEq(address(fresh.ledger()), address(freshLedger));
    }

    function test_setLedger_RevertWhen_NotAdmin() public {
        LicenceRegistry fresh = new LicenceRegistry(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, fresh.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(stranger);
        fresh.setLedger(ledger);
    }

    function test_setTokenAllowed_RevertWhen_NotTokenAdmin() public {
        bytes32 role = registry.TOKEN_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, licensor, role));
        vm.prank(licensor);
        registry.setTokenAllowed(address(0xBEEF), true);
    }

    function test_setTokenAllowed_RevertWhen_TokenZero() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ZeroAddress.selector, "token"));
        vm.prank(admin);
        registry.setTokenAllowed(address(0), true);
    }

    function test_openLicence_RevertWhen_NotRegistry() public {
        address[] memory payees = new address[](1);
        payees[0] = licensor;
        uint16[] memory shares = new uint16[](1);
        shares[0] = 10_000;
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotRegistry.selector, stranger));
        vm.prank(stranger);
        ledger.openLicence(1, address(token), licensee, payees, shares, 0, address(0), 0, 0, true);
    }

    function test_openLicence_RevertWhen_LicenceAlreadyOpened() public {
        uint256 licenceId = registerDefault();
        address[] memory payees = new address[](1);
        payees[0] = stranger;
        uint16[] memory shares = new uint16[](1);
        shares[0] = 10_000;
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.LicenceAlreadyOpened.selector, licenceId));
        vm.prank(address(registry));
        ledger.openLicence(licenceId, address(token), stranger, payees, shares, 0, address(0), 0, 0, true);
    }

    // ------------------------------------------------------------------ views of unknown licences

    function test_status_NoneForUnknownLicence() public view {
        assertEq(uint8(registry.status(7)), uint8(ILicenceRegistry.Status.None));
    }

    function test_settlementContext_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.UnknownLicence.selector, 7));
        registry.settlementContext(7);
    }

    function test_parties_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.UnknownLicence.selector, 7));
        registry.parties(7);
    }

    function test_scheduleAt_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.UnknownLicence.selector, 7));
        registry.scheduleAt(7, START);
    }
}
