using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Duckton.Ton.Addresses;
using Duckton.Ton.Contracts;
using Duckton.Ton.Rpc;

namespace Duckton.Ton.Tests.EndToEnd;

/// <summary>
/// The C# client against `duckton chain up` (a local emulator, not a TON network): wallets v5r1 deployed and driven by
/// signed external messages, our contracts deployed and exercised, and every balance change checked to the nanoton
/// against the fees the chain reports.
/// </summary>
public class ChainEndToEndTests : IClassFixture<LocalChain>
{
    private readonly LocalChain _chain;

    public ChainEndToEndTests(LocalChain chain) => _chain = chain;

    private static Coins Ton(decimal ton) => Coins.FromTon(ton);

    private static BigInteger N(Coins c) => c.Nanoton;

    /// <summary>Value in, value out, fees: what a transaction did to its account's balance.</summary>
    private static BigInteger Delta(TonTransaction tx) =>
        N(tx.InMessage?.Value ?? Coins.Zero) - tx.OutMessages.Aggregate(BigInteger.Zero, (s, m) => s + N(m.Value) + N(m.ForwardFee)) - N(tx.TotalFees);

    [Fact]
    public async Task A_retried_wallet_request_runs_once()
    {
        var sender = await _chain.NewWalletAsync(10);
        var receiver = await _chain.NewWalletAsync(1);
        var before = await _chain.BalanceAsync(receiver.Address);
        var seqno = await _chain.Client.GetWalletSeqnoAsync(sender.Address);
        var transfer = sender.Prepare(seqno, (uint)(await _chain.NowAsync() + 120), [new OutMessage(receiver.Address, Ton(1.5m))]);

        await _chain.Client.SendBocAsync(transfer.Message);
        // The very same bytes again (what a retry after a lost reply sends): the wallet refuses the used seqno.
        var again = await Assert.ThrowsAsync<ToncenterException>(() => _chain.Client.SendBocAsync(transfer.Message));
        Assert.Equal(500, again.HttpStatus);
        // SendAndConfirm of the same transfer finds the one transaction instead of failing or sending anything new.
        var tx = await sender.SendAndConfirmAsync(transfer, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        Assert.Equal(transfer.MessageHash, tx.InMessage!.Hash);

        Assert.Equal(seqno + 1, await _chain.Client.GetWalletSeqnoAsync(sender.Address));
        var received = await _chain.Client.GetTransactionsAsync(receiver.Address, 20);
        var fromSender = received.Where(t => t.InMessage?.Source == sender.Address).ToArray();
        var single = Assert.Single(fromSender);
        Assert.Equal(Ton(1.5m), single.InMessage!.Value);
        Assert.Equal(N(before) + N(Ton(1.5m)) - N(single.TotalFees), N(await _chain.BalanceAsync(receiver.Address)));
    }

    [Fact]
    public async Task A_job_escrow_is_deployed_funded_and_settled_with_every_leg_to_the_nanoton()
    {
        var requester = await _chain.NewWalletAsync(300); // also the arbiter, as in the turnkey node
        var winner = await _chain.NewWalletAsync(1);
        var treasury = await _chain.NewWalletAsync(1);
        var verifier1 = await _chain.NewWalletAsync(1);
        var verifier2 = await _chain.NewWalletAsync(1);
        const ushort phi = 1500, kappa = 500;
        var b = Ton(100);
        var baseAmount = Ton(80);
        var candidates = new[] { winner.Address, verifier1.Address, verifier2.Address };
        var resultHash = SHA256.HashData(Encoding.UTF8.GetBytes("result of job 1"));
        var config = new JobEscrowConfig(requester.Address, requester.Address, b, (uint)(await _chain.NowAsync() + 3600),
            new EscrowTerms(treasury.Address, resultHash, JobEscrow.CandidatesHash(candidates), 1, phi, kappa));
        var escrow = JobEscrow.Address(config);
        Assert.Equal(Ton(100), JobEscrow.RequiredTotal(baseAmount, 2, phi, kappa));

        // Deploy with B + 0.05 TON and the TopUp body; the address is the one computed off-chain.
        await _chain.SendAsync(requester, new OutMessage(escrow, b + JobEscrow.StorageReserve, Bounce: false, Body: JobEscrow.TopUp(1),
            Init: JobEscrow.StateInit(config)));
        var deployTx = await _chain.LastFromAsync(escrow, requester.Address);
        Assert.True(deployTx.Outcome!.Succeeded);
        Assert.Equal(N(b) + N(JobEscrow.StorageReserve) - N(deployTx.TotalFees), N(await _chain.BalanceAsync(escrow)));
        var state = JobEscrow.ParseState(await _chain.Client.RunGetMethodAsync(escrow, "get_escrow_state"));
        Assert.Equal(new EscrowState(b, config.Deadline, false, 1), state);

        var fee = JobEscrow.PlatformFee(baseAmount, phi);
        var commission = JobEscrow.Commission(baseAmount, kappa);
        var participants = new Dictionary<TonAddress, Coins> { [verifier1.Address] = commission, [verifier2.Address] = commission };

        // A wrong fee is refused on-chain (285) and changes nothing.
        await _chain.SendAsync(requester, new OutMessage(escrow, Ton(0.05m),
            Body: JobEscrow.Settle(resultHash, winner.Address, baseAmount, baseAmount, fee - Coins.FromNanoton(1L), participants, candidates)));
        Assert.Equal(285, (await _chain.LastFromAsync(escrow, requester.Address)).Outcome!.ComputeExitCode);
        Assert.False(JobEscrow.ParseState(await _chain.Client.RunGetMethodAsync(escrow, "get_escrow_state")).Settled);

        var accounts = new[] { requester.Address, winner.Address, treasury.Address, verifier1.Address, verifier2.Address, escrow };
        var before = new Dictionary<TonAddress, Coins>();
        foreach (var a in accounts)
        {
            before[a] = await _chain.BalanceAsync(a);
        }
        var settleValue = Ton(0.05m);
        var requesterTx = await _chain.SendAsync(requester, new OutMessage(escrow, settleValue,
            Body: JobEscrow.Settle(resultHash, winner.Address, baseAmount, baseAmount, fee, participants, candidates, queryId: 7)));

        var settleTx = await _chain.LastFromAsync(escrow, requester.Address);
        Assert.True(settleTx.Outcome!.Succeeded, settleTx.Outcome.ToString());
        Assert.True(JobEscrow.ParseState(await _chain.Client.RunGetMethodAsync(escrow, "get_escrow_state")).Settled);
        Coins Leg(TonAddress to) => settleTx.OutMessages.Single(m => m.Destination == to).Value;
        Assert.Equal(Ton(80), Leg(winner.Address));
        Assert.Equal(Ton(12), Leg(treasury.Address));
        Assert.Equal(Ton(4), Leg(verifier1.Address));
        Assert.Equal(Ton(4), Leg(verifier2.Address));
        var refund = Leg(requester.Address);
        // The escrow keeps exactly the reserve; everything else is accounted for by legs, forwarding fees and its own fees.
        Assert.Equal(JobEscrow.StorageReserve, await _chain.BalanceAsync(escrow));
        Assert.Equal(settleValue, settleTx.InMessage!.Value);
        Assert.Equal(N(JobEscrow.StorageReserve) - N(before[escrow]), Delta(settleTx));

        // Each payee received its leg less the fees of its own receiving transaction.
        foreach (var (payee, leg) in new[] { (winner, Ton(80)), (treasury, Ton(12)), (verifier1, Ton(4)), (verifier2, Ton(4)) })
        {
            var rx = await _chain.LastFromAsync(payee.Address, escrow);
            Assert.Equal(leg, rx.InMessage!.Value);
            Assert.Equal(N(before[payee.Address]) + N(leg) - N(rx.TotalFees), N(await _chain.BalanceAsync(payee.Address)));
        }
        // The requester paid the settle message and its fees, and got the refund less its receiving fees.
        var refundTx = await _chain.LastFromAsync(requester.Address, escrow);
        Assert.Equal(refund, refundTx.InMessage!.Value);
        Assert.Equal(N(before[requester.Address]) + Delta(requesterTx) + Delta(refundTx), N(await _chain.BalanceAsync(requester.Address)));
        Assert.Equal(-(N(settleValue) + N(requesterTx.OutMessages[0].ForwardFee) + N(requesterTx.TotalFees)), Delta(requesterTx));

        // A second settle is refused (224).
        await _chain.SendAsync(requester, new OutMessage(escrow, Ton(0.05m),
            Body: JobEscrow.Settle(resultHash, winner.Address, baseAmount, baseAmount, fee, participants, candidates)));
        Assert.Equal(224, (await _chain.LastFromAsync(escrow, requester.Address)).Outcome!.ComputeExitCode);
    }

    [Fact]
    public async Task A_free_winner_is_paid_nothing_and_an_unsettled_escrow_is_refunded_by_anyone_after_its_deadline()
    {
        var requester = await _chain.NewWalletAsync(50);
        var winner = await _chain.NewWalletAsync(1);
        var treasury = await _chain.NewWalletAsync(1);
        var verifier = await _chain.NewWalletAsync(1);
        var stranger = await _chain.NewWalletAsync(1);
        const ushort phi = 1500, kappa = 500;
        var candidates = new[] { winner.Address, verifier.Address };
        var resultHash = SHA256.HashData(Encoding.UTF8.GetBytes("result of job 2"));
        var now = await _chain.NowAsync();
        JobEscrowConfig Config(uint deadline) => new(requester.Address, requester.Address, Ton(10), deadline,
            new EscrowTerms(treasury.Address, resultHash, JobEscrow.CandidatesHash(candidates), 3, phi, kappa));

        // Free (walletless) winner: winnerAmount 0, the fee and the commission are still paid on base.
        var free = Config((uint)(now + 3600));
        var freeEscrow = JobEscrow.Address(free);
        await _chain.SendAsync(requester, new OutMessage(freeEscrow, Ton(10.05m), Bounce: false, Body: JobEscrow.TopUp(), Init: JobEscrow.StateInit(free)));
        var baseAmount = Ton(8);
        await _chain.SendAsync(requester, new OutMessage(freeEscrow, Ton(0.05m), Body: JobEscrow.Settle(resultHash, winner.Address, baseAmount,
            Coins.Zero, JobEscrow.PlatformFee(baseAmount, phi), new Dictionary<TonAddress, Coins> { [verifier.Address] = JobEscrow.Commission(baseAmount, kappa) },
            candidates)));
        var settleTx = await _chain.LastFromAsync(freeEscrow, requester.Address);
        Assert.True(settleTx.Outcome!.Succeeded, settleTx.Outcome.ToString());
        Assert.DoesNotContain(settleTx.OutMessages, m => m.Destination == winner.Address);
        Assert.Equal(Ton(1.2m), settleTx.OutMessages.Single(m => m.Destination == treasury.Address).Value);
        Assert.Equal(Ton(0.4m), settleTx.OutMessages.Single(m => m.Destination == verifier.Address).Value);
        // The base comes back: the refund is more than B minus the fee and commission.
        Assert.True(settleTx.OutMessages.Single(m => m.Destination == requester.Address).Value > Ton(10 - 1.2m - 0.4m));
        Assert.Equal(JobEscrow.StorageReserve, await _chain.BalanceAsync(freeEscrow));

        // An escrow never settled: a refund before the deadline is refused (225); after it, anyone triggers it.
        var late = Config((uint)(now + 600));
        var lateEscrow = JobEscrow.Address(late);
        await _chain.SendAsync(requester, new OutMessage(lateEscrow, Ton(10.05m), Bounce: false, Body: JobEscrow.TopUp(), Init: JobEscrow.StateInit(late)));
        await _chain.SendAsync(stranger, new OutMessage(lateEscrow, Ton(0.05m), Body: JobEscrow.Refund()));
        Assert.Equal(225, (await _chain.LastFromAsync(lateEscrow, stranger.Address)).Outcome!.ComputeExitCode);
        await _chain.AdvanceAsync(601);
        var escrowBefore = await _chain.BalanceAsync(lateEscrow);
        await _chain.SendAsync(stranger, new OutMessage(lateEscrow, Ton(0.05m), Body: JobEscrow.Refund()));
        var refundTx = await _chain.LastFromAsync(lateEscrow, stranger.Address);
        Assert.True(refundTx.Outcome!.Succeeded, refundTx.Outcome.ToString());
        var back = Assert.Single(refundTx.OutMessages);
        Assert.Equal(requester.Address, back.Destination);
        Assert.Equal(N(JobEscrow.StorageReserve) - N(escrowBefore), Delta(refundTx));
        Assert.Equal(JobEscrow.StorageReserve, await _chain.BalanceAsync(lateEscrow));
        var received = await _chain.LastFromAsync(requester.Address, lateEscrow);
        Assert.Equal(back.Value, received.InMessage!.Value);
        Assert.True(JobEscrow.ParseState(await _chain.Client.RunGetMethodAsync(lateEscrow, "get_escrow_state")).Settled);
    }

    [Fact]
    public async Task Stake_deposit_unbond_seven_days_withdraw_and_a_slash()
    {
        var owner = await _chain.NewWalletAsync(50);
        var slasher = await _chain.NewWalletAsync(5);
        var treasury = await _chain.NewWalletAsync(1);
        var pool = await _chain.NewWalletAsync(1);
        var challenger = await _chain.NewWalletAsync(1);
        var config = new VaultConfig(Ton(1), VaultConfig.SevenDays, slasher.Address, new SlashSplit(treasury.Address, pool.Address));
        var init = StakeVault.StateInit(owner.Address, config);
        var vault = init.Address();

        await _chain.SendAsync(owner, new OutMessage(vault, Ton(0.2m), Bounce: false, Body: StakeVault.TopUp(), Init: init));
        Assert.True((await _chain.LastFromAsync(vault, owner.Address)).Outcome!.Succeeded);

        // Deposit 10 TON (value must cover amount + 0.05).
        var vaultBefore = await _chain.BalanceAsync(vault);
        await _chain.SendAsync(owner, new OutMessage(vault, Ton(10.05m), Body: StakeVault.Deposit(Ton(10))));
        var depositTx = await _chain.LastFromAsync(vault, owner.Address);
        Assert.True(depositTx.Outcome!.Succeeded);
        Assert.Equal(N(vaultBefore) + N(Ton(10.05m)) - N(depositTx.TotalFees) - depositTx.OutMessages.Aggregate(BigInteger.Zero, (s, m) => s + N(m.Value) + N(m.ForwardFee)),
            N(await _chain.BalanceAsync(vault)));
        var vs = StakeVault.ParseState(await _chain.Client.RunGetMethodAsync(vault, "get_vault_state"));
        Assert.Equal(Ton(10), vs.Staked);
        Assert.True(vs.Eligible);

        // Unbond 4 TON; withdrawing at once is refused (203).
        await _chain.SendAsync(owner, new OutMessage(vault, Ton(0.05m), Body: StakeVault.RequestUnbond(Ton(4))));
        vs = StakeVault.ParseState(await _chain.Client.RunGetMethodAsync(vault, "get_vault_state"));
        Assert.Equal((Ton(6), Ton(4)), (vs.Staked, vs.Unbonding));
        Assert.Equal(vs.UnbondingAt + VaultConfig.SevenDays, vs.ReadyAt);
        await _chain.SendAsync(owner, new OutMessage(vault, Ton(0.05m), Body: StakeVault.Withdraw()));
        Assert.Equal(203, (await _chain.LastFromAsync(vault, owner.Address)).Outcome!.ComputeExitCode);

        // Seven days later the withdraw pays exactly the unbonded 4 TON.
        await _chain.AdvanceAsync(VaultConfig.SevenDays + 1);
        var ownerBefore = await _chain.BalanceAsync(owner.Address);
        var ownerTx = await _chain.SendAsync(owner, new OutMessage(vault, Ton(0.05m), Body: StakeVault.Withdraw()));
        var withdrawTx = await _chain.LastFromAsync(vault, owner.Address);
        Assert.True(withdrawTx.Outcome!.Succeeded, withdrawTx.Outcome.ToString());
        Assert.Equal(Ton(4), withdrawTx.OutMessages.Single(m => m.Destination == owner.Address).Value);
        var payoutTx = await _chain.LastFromAsync(owner.Address, vault);
        Assert.Equal(N(ownerBefore) + Delta(ownerTx) + Delta(payoutTx), N(await _chain.BalanceAsync(owner.Address)));
        Assert.Equal(N(Ton(4)) - N(payoutTx.TotalFees), Delta(payoutTx));
        vs = StakeVault.ParseState(await _chain.Client.RunGetMethodAsync(vault, "get_vault_state"));
        Assert.Equal((Ton(6), Coins.Zero), (vs.Staked, vs.Unbonding));

        // Only the slasher may slash (200); a slash of 2 TON pays 40/30/10 % and leaves the 20 % burn in the vault.
        await _chain.SendAsync(owner, new OutMessage(vault, Ton(0.1m), Body: StakeVault.Slash(Ton(2), 1, challenger.Address)));
        Assert.Equal(200, (await _chain.LastFromAsync(vault, owner.Address)).Outcome!.ComputeExitCode);
        var legsBefore = new Dictionary<TonAddress, Coins>
        {
            [challenger.Address] = await _chain.BalanceAsync(challenger.Address),
            [pool.Address] = await _chain.BalanceAsync(pool.Address),
            [treasury.Address] = await _chain.BalanceAsync(treasury.Address),
        };
        await _chain.SendAsync(slasher, new OutMessage(vault, Ton(0.1m), Body: StakeVault.Slash(Ton(2), 1, challenger.Address)));
        var slashTx = await _chain.LastFromAsync(vault, slasher.Address);
        Assert.True(slashTx.Outcome!.Succeeded, slashTx.Outcome.ToString());
        foreach (var (to, bps) in new[] { (challenger.Address, (ushort)4000), (pool.Address, (ushort)3000), (treasury.Address, (ushort)1000) })
        {
            var leg = StakeVault.SlashShare(Ton(2), bps);
            Assert.Equal(leg, slashTx.OutMessages.Single(m => m.Destination == to).Value);
            var rx = await _chain.LastFromAsync(to, vault);
            Assert.Equal(N(legsBefore[to]) + N(leg) - N(rx.TotalFees), N(await _chain.BalanceAsync(to)));
        }
        vs = StakeVault.ParseState(await _chain.Client.RunGetMethodAsync(vault, "get_vault_state"));
        Assert.Equal(Ton(4), vs.Staked);
    }

    [Fact]
    public async Task Two_anchor_epochs_and_a_bonded_dispute()
    {
        var keeper = await _chain.NewWalletAsync(10);
        var authority = await _chain.NewWalletAsync(2);
        var treasury = await _chain.NewWalletAsync(1);
        var challenger = await _chain.NewWalletAsync(10);
        var config = new AnchorConfig(Ton(1), Ton(0.5m), authority.Address, keeper.Address, treasury.Address);
        var init = RecordAnchor.StateInit(config);
        var anchor = init.Address();
        await _chain.SendAsync(keeper, new OutMessage(anchor, Ton(0.5m), Bounce: false, Init: init));
        Assert.True((await _chain.LastFromAsync(anchor, keeper.Address)).Outcome!.Succeeded);

        byte[] Leaf(int epoch, int i) => SHA256.HashData(Encoding.UTF8.GetBytes($"job record {epoch}/{i}"));
        var leaves1 = Enumerable.Range(0, 5).Select(i => Leaf(1, i)).ToArray();
        var leaves2 = Enumerable.Range(0, 7).Select(i => Leaf(2, i)).ToArray();
        var (root1, _) = RecordAnchor.Tree(leaves1, 0);
        var (root2, proof) = RecordAnchor.Tree(leaves2, 4);

        await _chain.SendAsync(keeper, new OutMessage(anchor, Ton(0.05m), Body: RecordAnchor.SubmitRoot(1, root1, new byte[32], Ton(2))));
        Assert.True((await _chain.LastFromAsync(anchor, keeper.Address)).Outcome!.Succeeded);
        await _chain.SendAsync(keeper, new OutMessage(anchor, Ton(0.05m), Body: RecordAnchor.SubmitRoot(2, root2, root1, Ton(2))));
        Assert.True((await _chain.LastFromAsync(anchor, keeper.Address)).Outcome!.Succeeded);
        var st = await _chain.Client.RunGetMethodAsync(anchor, "get_anchor_state");
        Assert.Equal(2, st.Number(0));
        Assert.Equal(new BigInteger(root2, isUnsigned: true, isBigEndian: true), st.Number(1));
        // Epochs must advance by one (241).
        await _chain.SendAsync(keeper, new OutMessage(anchor, Ton(0.05m), Body: RecordAnchor.SubmitRoot(2, root1, root2, Ton(2))));
        Assert.Equal(241, (await _chain.LastFromAsync(anchor, keeper.Address)).Outcome!.ComputeExitCode);

        // A proof that does not fold to the root (243); then a valid one opens dispute 0 with a 0.6 TON bond.
        var badProof = proof.Select((s, i) => i == 0 ? s with { Sibling = new byte[32] } : s).ToArray();
        await _chain.SendAsync(challenger, new OutMessage(anchor, Ton(0.6m), Body: RecordAnchor.OpenDispute(2, leaves2[4], badProof)));
        Assert.Equal(243, (await _chain.LastFromAsync(anchor, challenger.Address)).Outcome!.ComputeExitCode);
        await _chain.SendAsync(challenger, new OutMessage(anchor, Ton(0.6m), Body: RecordAnchor.OpenDispute(2, leaves2[4], proof)));
        Assert.True((await _chain.LastFromAsync(anchor, challenger.Address)).Outcome!.Succeeded);
        var dispute = await _chain.Client.RunGetMethodAsync(anchor, "get_dispute", [new TvmValue.Number(0)]);
        Assert.NotEqual(0, dispute.Number(0));
        Assert.Equal(N(Ton(0.6m)), dispute.Number(4));

        // Upheld by the verdict authority: the bond goes back to the challenger, exactly.
        var challengerBefore = await _chain.BalanceAsync(challenger.Address);
        await _chain.SendAsync(authority, new OutMessage(anchor, Ton(0.05m), Body: RecordAnchor.ResolveDispute(0, upheld: true)));
        var resolveTx = await _chain.LastFromAsync(anchor, authority.Address);
        Assert.True(resolveTx.Outcome!.Succeeded, resolveTx.Outcome.ToString());
        Assert.Equal(Ton(0.6m), resolveTx.OutMessages.Single(m => m.Destination == challenger.Address).Value);
        var rx = await _chain.LastFromAsync(challenger.Address, anchor);
        Assert.Equal(N(challengerBefore) + N(Ton(0.6m)) - N(rx.TotalFees), N(await _chain.BalanceAsync(challenger.Address)));
        // A second verdict is refused (247).
        await _chain.SendAsync(authority, new OutMessage(anchor, Ton(0.05m), Body: RecordAnchor.ResolveDispute(0, upheld: false)));
        Assert.Equal(247, (await _chain.LastFromAsync(anchor, authority.Address)).Outcome!.ComputeExitCode);
    }
}
