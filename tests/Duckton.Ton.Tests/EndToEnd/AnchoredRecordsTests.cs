using System.Numerics;
using Duckton.Core.Configuration;
using Duckton.Core.Records;
using Duckton.Node.Records;
using Duckton.Node.Trust;
using Duckton.Ton.Contracts;
using Duckton.Ton.Rpc;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Ton.Tests.EndToEnd;

/// <summary>
/// Job records in a real trust store, sealed by the record keeper and anchored in a RecordAnchor deployed on
/// `duckton chain up` (a local emulator, not a TON network); proofs from the store checked by the contract; the bonded
/// dispute path with every bond outcome checked on the balances.
/// </summary>
public sealed class AnchoredRecordsTests : IClassFixture<LocalChain>, IDisposable
{
    private readonly LocalChain _chain;
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-anchor-").FullName;

    public AnchoredRecordsTests(LocalChain chain)
    {
        _chain = chain;
        Duckton.DuckDB.Native.DuckDBNative.InitializeFromLibrary(); // the trust store is a DuckDB file
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Coins Ton(decimal ton) => Coins.FromTon(ton);

    private static BigInteger N(Coins c) => c.Nanoton;

    private static void AddRecords(TrustStore store, string prefix, int count, DateTimeOffset at)
    {
        for (var i = 0; i < count; i++)
        {
            store.AddJobRecord($"{prefix}{i:D2}", new string('a', 64), $"hash-{prefix}{i}", Duckton.Core.Hashing.Blake3.Hash([(byte)i]),
                "b3:" + new string('1', 64), "b3:" + new string('2', 64), at);
        }
    }

    [Fact]
    public async Task The_keeper_anchors_sealed_epochs_only_with_economics_on_and_a_disputed_proof_is_judged_with_its_bond()
    {
        var keeperWallet = await _chain.NewWalletAsync(10);
        var authorityWallet = await _chain.NewWalletAsync(2);
        var treasury = await _chain.NewWalletAsync(1);
        var challengerWallet = await _chain.NewWalletAsync(10);
        var init = RecordAnchor.StateInit(new AnchorConfig(Ton(1), Ton(0.5m), authorityWallet.Address, keeperWallet.Address, treasury.Address));
        var anchor = init.Address();
        await _chain.SendAsync(keeperWallet, new OutMessage(anchor, Ton(0.5m), Bounce: false, Init: init));
        async Task<DateTimeOffset> ChainNow(CancellationToken _) => DateTimeOffset.FromUnixTimeSeconds(await _chain.NowAsync());
        var options = RecordAnchorClientOptions.Default with { StakeWeight = Ton(2), PollInterval = TimeSpan.FromMilliseconds(100), Clock = ChainNow };
        var keeperClient = new RecordAnchorClient(_chain.Client, keeperWallet, anchor, "local", options);
        var challenger = new RecordAnchorClient(_chain.Client, challengerWallet, anchor, "local", options);
        var authority = new RecordAnchorClient(_chain.Client, authorityWallet, anchor, "local", options);

        var config = new ConfigStore(_dir);
        config.Set([new("economics.records.keeper", "true"), new("economics.records.epoch_secs", "60")]);
        using var store = TrustStore.Open(_dir);
        await using var keeper = new RecordKeeper(() => store, () => config.Effective().Config, () => keeperClient, TimeProvider.System, NullLogger.Instance);
        var past = DateTimeOffset.UtcNow.AddMinutes(-5);

        // Economics off (the default): the epoch is sealed and its root stored, nothing reaches the chain.
        AddRecords(store, "job-a", 5, past);
        var first = await keeper.RunOnceAsync();
        Assert.NotNull(first);
        Assert.Equal((1u, 5L), (first.Epoch, first.LeafCount));
        Assert.Null(store.Epochs().Single().Anchor);
        Assert.Equal(0u, (await keeperClient.StateAsync()).CurrentEpoch);

        // Economics on: the keeper anchors epoch 1, then seals and anchors epoch 2 chained to it.
        config.Set("economics.enabled", "true");
        Assert.Null(await keeper.RunOnceAsync()); // nothing new to seal, but the stored epoch 1 goes on chain
        Assert.Null(keeper.LastAnchorError);
        AddRecords(store, "job-b", 7, past);
        var second = await keeper.RunOnceAsync();
        Assert.Equal(2u, second!.Epoch);
        var epochs = store.Epochs();
        Assert.All(epochs, e => Assert.Equal(anchor.ToRaw(), e.Anchor!.Address));
        var state = await keeperClient.StateAsync();
        Assert.Equal(2u, state.CurrentEpoch);
        Assert.Equal(second.Root, state.LastRoot);
        Assert.Equal(first.Root, await keeperClient.RootOfAsync(1));
        var anchorTxs = await _chain.Client.GetTransactionsAsync(anchor, 20);
        Assert.Contains(anchorTxs, t => t.Hash == epochs[1].Anchor!.TransactionHash && t.Outcome!.Succeeded);

        // A submission whose confirmation the keeper never saw (its process stopped mid-anchor): the chain holds the root,
        // the store does not know. The next round finds it as this keeper's own and records where it is.
        AddRecords(store, "job-c", 3, past);
        var third = keeper.SealDue()!;
        Assert.Equal(3u, third.Epoch);
        var sentEarlier = await keeperClient.AnchorAsync(3, third.Root, second.Root);
        Assert.Null(store.Epochs().Single(e => e.Epoch == 3).Anchor);
        Assert.Null(await keeper.RunOnceAsync());
        Assert.Equal(sentEarlier, store.Epochs().Single(e => e.Epoch == 3).Anchor);
        // The chain holding another root under a local epoch's number is not this keeper's submission: it stays local.
        AddRecords(store, "job-d", 2, past);
        var fourth = keeper.SealDue()!;
        await keeperClient.AnchorAsync(4, Flip(fourth.Root), third.Root);
        Assert.Null(await keeper.RunOnceAsync());
        Assert.Null(store.Epochs().Single(e => e.Epoch == 4).Anchor);

        // A proof from the store verifies offline, and the contract folds it to the anchored root.
        var proof = store.ProofOf("job-b04")!;
        Assert.Null(JobProof.Verify(proof.ToJson()).Problem);
        Assert.Equal(epochs[1].Anchor, proof.Anchor);
        Assert.Equal(second.Root, await challenger.ComputeRootAsync(proof.Record.Leaf(), proof.Path));

        // A wrong proof (one bit of a sibling flipped) is refused (243): no dispute, the bond bounces back less gas only.
        var bond = Ton(0.6m);
        var wrongPath = proof.Path.Select((s, i) => i == 1 ? s with { Sibling = Flip(s.Sibling) } : s).ToList();
        var nextId = await challenger.NextDisputeIdAsync();
        var beforeWrong = await _chain.BalanceAsync(challengerWallet.Address);
        var refused = await Assert.ThrowsAsync<AnchorRefusedException>(() => challenger.OpenDisputeAsync(2, proof.Record.Leaf(), wrongPath, bond));
        Assert.Equal(243, refused.ExitCode);
        Assert.Equal(nextId, await challenger.NextDisputeIdAsync());
        var bounceTx = await _chain.LastFromAsync(challengerWallet.Address, anchor);
        Assert.True(bounceTx.InMessage!.Bounced);
        var lostToWrong = N(beforeWrong) - N(await _chain.BalanceAsync(challengerWallet.Address));
        Assert.True(lostToWrong > 0 && lostToWrong < N(Ton(0.05m)), $"a refused dispute costs gas only, it cost {lostToWrong} nanoton");

        // A right proof opens a dispute holding the bond; upheld, the bond comes back to the challenger to the nanoton.
        var (upheldId, openTx) = await challenger.OpenDisputeAsync(2, proof.Record.Leaf(), proof.Path, bond);
        Assert.True(openTx.Outcome!.Succeeded);
        var dispute = await challenger.DisputeAsync(upheldId);
        Assert.Equal((2u, bond, 0, challengerWallet.Address), (dispute!.Epoch, dispute.Bond, dispute.Status, dispute.Challenger));
        Assert.Equal(proof.Record.Leaf(), dispute.Leaf);
        var challengerBefore = await _chain.BalanceAsync(challengerWallet.Address);
        var upheldTx = await authority.ResolveDisputeAsync(upheldId, upheld: true);
        Assert.Equal(bond, upheldTx.OutMessages.Single(m => m.Destination == challengerWallet.Address).Value);
        var backTx = await _chain.LastFromAsync(challengerWallet.Address, anchor);
        Assert.Equal(N(challengerBefore) + N(bond) - N(backTx.TotalFees), N(await _chain.BalanceAsync(challengerWallet.Address)));
        Assert.Equal(1, (await challenger.DisputeAsync(upheldId))!.Status);

        // Only the verdict authority judges (246); a second verdict is refused (247).
        Assert.Equal(246, (await Assert.ThrowsAsync<AnchorRefusedException>(() => challenger.ResolveDisputeAsync(upheldId, upheld: false))).ExitCode);
        Assert.Equal(247, (await Assert.ThrowsAsync<AnchorRefusedException>(() => authority.ResolveDisputeAsync(upheldId, upheld: false))).ExitCode);

        // Another dispute, rejected: the bond goes to the treasury to the nanoton.
        var epoch1Proof = store.ProofOf("job-a03")!;
        var (rejectedId, _) = await challenger.OpenDisputeAsync(1, epoch1Proof.Record.Leaf(), epoch1Proof.Path, bond);
        var treasuryBefore = await _chain.BalanceAsync(treasury.Address);
        var rejectTx = await authority.ResolveDisputeAsync(rejectedId, upheld: false);
        Assert.Equal(bond, rejectTx.OutMessages.Single(m => m.Destination == treasury.Address).Value);
        var treasuryRx = await _chain.LastFromAsync(treasury.Address, anchor);
        Assert.Equal(N(treasuryBefore) + N(bond) - N(treasuryRx.TotalFees), N(await _chain.BalanceAsync(treasury.Address)));
        Assert.Equal(2, (await challenger.DisputeAsync(rejectedId))!.Status);
    }

    private static byte[] Flip(byte[] b)
    {
        var c = (byte[])b.Clone();
        c[7] ^= 0x10;
        return c;
    }
}
