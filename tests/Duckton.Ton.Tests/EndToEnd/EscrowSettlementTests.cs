using System.Numerics;
using Duckton.Core.Configuration;
using Duckton.Node.Economics;
using Duckton.Ton.Addresses;
using Duckton.Ton.Contracts;
using Duckton.Ton.Rpc;

namespace Duckton.Ton.Tests.EndToEnd;

/// <summary>
/// The requester's escrow of a paid job on `duckton chain up` (a local emulator, not a TON network), through the node's
/// economics runtime: sized for base + 15 % fee + 5 % per verifier from the GlobalParams it deploys, settled to exactly
/// those legs (every balance checked to the nanoton), refused when the result hash differs, and refunded after a restart
/// once its deadline has passed.
/// </summary>
public sealed class EscrowSettlementTests(LocalChain chain) : IClassFixture<LocalChain>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-escrow-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Coins Ton(decimal t) => Coins.FromTon(t);

    private EconomicsHost Host(TonWallet treasury)
    {
        var config = new ConfigStore(_dir);
        config.Set([new("economics.enabled", "true"), new("economics.network", "local"), new("economics.local.rpc", chain.Rpc.ToString()),
            new("economics.fee_recipient", treasury.Address.ToRaw())]);
        return new EconomicsHost(config);
    }

    /// <summary>The value and fee of the newest transaction of <paramref name="account"/> caused by <paramref name="from"/>.</summary>
    private async Task<(BigInteger Value, BigInteger Fee)> Incoming(TonAddress account, TonAddress from)
    {
        var tx = await chain.LastFromAsync(account, from);
        Assert.True(tx.Outcome!.Succeeded);
        return (tx.InMessage!.Value.Nanoton, tx.TotalFees.Nanoton);
    }

    [Fact]
    public async Task An_escrow_is_sized_by_the_contract_formula_settles_exactly_its_legs_and_a_pending_one_is_refunded_after_a_restart()
    {
        var treasury = await chain.NewWalletAsync(1);
        var winner = await chain.NewWalletAsync(1);
        var v1 = await chain.NewWalletAsync(1);
        var v2 = await chain.NewWalletAsync(1);
        var outsider = await chain.NewWalletAsync(1);
        using var host = Host(treasury);
        var rt = host.Runtime();
        rt.CreateOrImportWallet(null);
        var requester = rt.Wallet().Address;
        await chain.FundAsync(requester, Ton(50));
        await rt.ContractsAsync(deploy: true); // GlobalParams: φ 1500, κ 500, the treasury as fee recipient
        var settlement = new EscrowSettlement(rt);

        // Base 2 TON, two agreeing verifiers: B = 2 + 0.3 + 2 × 0.1 = 2.5 TON.
        var hash = Duckton.Core.Hashing.Blake3.Hash("agreed result"u8);
        var open = await settlement.OpenAsync("job-1", hash, winner.Address, [v1.Address, v2.Address], Ton(2));
        Assert.Equal(2_500_000_000, open.AmountNanoton);
        Assert.Equal("open", open.State);
        var escrow = TonAddress.Parse(open.Escrow);
        Assert.Equal(escrow, JobEscrow.Address(open.Config())); // the address is rebuilt from the stored terms
        Assert.True(await chain.BalanceAsync(escrow) >= Ton(2.5m));

        // What a host checks before releasing rows: funded for it, not for a wallet outside the committed payees.
        Assert.Null(await EscrowSettlement.FundedProblemAsync(chain.Client, open.Config(), open.Candidates(), winner.Address));
        Assert.Contains("not among", await EscrowSettlement.FundedProblemAsync(chain.Client, open.Config(), open.Candidates(), outsider.Address), StringComparison.Ordinal);

        // A result hash that is not the agreed one: refused on chain (223), nothing paid, still open.
        var wrong = await Assert.ThrowsAsync<EconomicsException>(() => settlement.SettleAsync(open, Duckton.Core.Hashing.Blake3.Hash("other"u8)));
        Assert.Contains("exit code 223", wrong.Message, StringComparison.Ordinal);
        Assert.False(JobEscrow.ParseState(await chain.Client.RunGetMethodAsync(escrow, "get_escrow_state")).Settled);

        // Settle: each payee receives exactly its leg (its balance rises by that, less its own receiving fee).
        var before = new Dictionary<TonAddress, Coins>();
        foreach (var w in new[] { winner.Address, v1.Address, v2.Address, treasury.Address })
        {
            before[w] = await chain.BalanceAsync(w);
        }
        var escrowBefore = await chain.BalanceAsync(escrow);
        var settled = await settlement.SettleAsync(open, hash);
        Assert.Equal("settled", settled.State);
        var expected = new Dictionary<TonAddress, BigInteger>
        {
            [winner.Address] = 2_000_000_000, [treasury.Address] = 300_000_000, [v1.Address] = 100_000_000, [v2.Address] = 100_000_000,
        };
        foreach (var (who, leg) in expected)
        {
            var (value, fee) = await Incoming(who, escrow);
            Assert.Equal(leg, value);
            Assert.Equal(before[who].Nanoton + leg - fee, (await chain.BalanceAsync(who)).Nanoton);
        }
        Assert.Equal(expected.Count, settled.Legs.Count);
        Assert.Equal(expected.Values.Aggregate(BigInteger.Zero, (s, x) => s + x), settled.Legs.Aggregate(BigInteger.Zero, (s, l) => s + l.Nanoton));
        // The escrow keeps exactly its 0.05 TON reserve; the requester got the rest back (what it held and the settle's value, less the escrow's fees).
        Assert.Equal(EscrowSettlement.DeployBuffer, await chain.BalanceAsync(escrow));
        var remainder = await Incoming(requester, escrow);
        Assert.True(remainder.Value > 0 && remainder.Value < escrowBefore.Nanoton + EscrowSettlement.CloseValue.Nanoton - 2_500_000_000);
        var again = await Assert.ThrowsAsync<EconomicsException>(() => settlement.SettleAsync(settled, hash));
        Assert.Contains("is settled, not open", again.Message, StringComparison.Ordinal);

        // A second job's escrow is opened, then the node restarts before it is settled: the pending escrow is on disk.
        var second = await settlement.OpenAsync("job-2", hash, winner.Address, [v1.Address], Ton(1));
        Assert.Equal(1_200_000_000, second.AmountNanoton); // 1 + 0.15 + 0.05
        host.Dispose();
        using var restarted = Host(treasury);
        var resumed = new EscrowSettlement(restarted.Runtime());
        var early = Assert.Single(await resumed.ResumeAsync());
        Assert.Equal(("job-2", "open"), (early.JobId, early.State)); // before its deadline it stays open
        var tooEarly = await Assert.ThrowsAsync<EconomicsException>(() => resumed.RefundAsync(early));
        Assert.Contains("can be refunded from", tooEarly.Message, StringComparison.Ordinal);

        // Past the deadline (max(challenge window, 600 s)) the next resume refunds it: the requester gets all but the reserve.
        await chain.AdvanceAsync(second.Deadline - await chain.NowAsync() + 1);
        var requesterBefore = await chain.BalanceAsync(requester);
        var refunded = Assert.Single(await resumed.ResumeAsync());
        Assert.Equal("refunded", refunded.State);
        Assert.Equal(EscrowSettlement.DeployBuffer, await chain.BalanceAsync(TonAddress.Parse(second.Escrow)));
        var refund = await Incoming(requester, TonAddress.Parse(second.Escrow));
        Assert.True(refund.Value >= 1_200_000_000); // B came back (with the unspent part of the refund's value)
        Assert.True((await chain.BalanceAsync(requester)).Nanoton > requesterBefore.Nanoton);
        // Nothing is resumed twice: both escrows are closed on disk.
        Assert.Empty(await resumed.ResumeAsync());
        Assert.Equal(["refunded", "settled"], resumed.Stored().Select(e => e.State).Order().ToArray());
    }
}
