using System.Security.Cryptography;
using Duckton.Core.Configuration;
using Duckton.Node.Economics;
using Duckton.Ton.Addresses;
using Duckton.Ton.Rpc;

namespace Duckton.Ton.Tests.EndToEnd;

/// <summary>
/// Sends from one wallet by several senders at once on `duckton chain up` (a local emulator, not a TON network): the
/// record keeper's anchoring (RecordAnchorClient) and the economics runtime's payments each build their own wallet
/// object for the same key, and each request must still get a seqno of its own (the wallet v5r1 refuses a reused one
/// with exit code 133).
/// </summary>
public sealed class WalletSendOrderTests(LocalChain chain) : IClassFixture<LocalChain>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-wallet-order-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Coins Ton(decimal t) => Coins.FromTon(t);

    private EconomicsHost Host(TonAddress feeRecipient)
    {
        var config = new ConfigStore(_dir);
        config.Set([new("economics.enabled", "true"), new("economics.network", "local"), new("economics.local.rpc", chain.Rpc.ToString()),
            new("economics.fee_recipient", feeRecipient.ToRaw()), new("economics.records.keeper", "true")]);
        return new EconomicsHost(config);
    }

    /// <summary>The wallet's own transactions (external requests) newer than <paramref name="afterLt"/>.</summary>
    private async Task<List<TonTransaction>> RequestsSince(TonAddress wallet, ulong afterLt) =>
        [.. (await chain.Client.GetTransactionsAsync(wallet, 100)).Where(t => t.Lt > afterLt && t.InMessage is { Source: null })];

    [Fact]
    public async Task Anchoring_and_payments_from_one_wallet_at_once_each_consume_their_own_seqno()
    {
        var treasury = await chain.NewWalletAsync(1);
        using var host = Host(treasury.Address);
        var rt = host.Runtime();
        rt.CreateOrImportWallet(null);
        var wallet = rt.Wallet().Address;
        await chain.FundAsync(wallet, Ton(50));
        await rt.ContractsAsync(deploy: true); // GlobalParams and a RecordAnchor whose keeper is this wallet
        var anchor = rt.EpochAnchor() ?? throw new InvalidOperationException("no anchor after deploy");
        var seqnoBefore = await chain.Client.GetWalletSeqnoAsync(wallet);
        var ltBefore = (await chain.Client.GetTransactionsAsync(wallet, 1))[0].Lt;

        // The paths of a keeper that also pays: epoch roots through the anchor client, payments through the runtime, and
        // payments through a second runtime on the same config directory (what a second process sharing it holds).
        // Each round starts them together, so their seqno reads meet.
        using var other = Host(treasury.Address);
        var rt2 = other.Runtime();
        const int Rounds = 8;
        using var barrier = new Barrier(3);
        Task Sender(Func<Task> send) => Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < Rounds; i++)
                {
                    barrier.SignalAndWait(TimeSpan.FromSeconds(60));
                    await send();
                }
            }
            finally
            {
                barrier.RemoveParticipant(); // a failed sender must not hold the others at the barrier
            }
        });
        var anchoring = Sender(async () =>
        {
            var state = await anchor.StateAsync();
            await anchor.AnchorAsync(state.CurrentEpoch + 1, RandomNumberGenerator.GetBytes(32), state.LastRoot);
        });
        var paying = Sender(() => rt.SendAsync([new OutMessage(treasury.Address, Ton(0.01m), Bounce: false)]));
        var payingToo = Sender(() => rt2.SendAsync([new OutMessage(treasury.Address, Ton(0.02m), Bounce: false)]));
        await Task.WhenAll(anchoring, paying, payingToo);

        // Every request ran once, each with the next seqno, all accepted.
        Assert.Equal(seqnoBefore + 3 * Rounds, await chain.Client.GetWalletSeqnoAsync(wallet));
        var requests = await RequestsSince(wallet, ltBefore);
        Assert.Equal(3 * Rounds, requests.Count);
        Assert.All(requests, t => Assert.True(t.Outcome!.Succeeded, t.Outcome.ToString()));
        Assert.Equal((uint)Rounds, (await anchor.StateAsync()).CurrentEpoch);
    }
}
