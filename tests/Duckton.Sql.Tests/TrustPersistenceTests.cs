using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Transport;

namespace Duckton.Sql.Tests;

/// <summary>Vetting state, measured performance and vouches against a real trust store in a temp dir, reopened as after a restart.</summary>
[Collection(SqlCollection.Name)]
public sealed class TrustPersistenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-trust-persist-").FullName;
    private readonly NodeIdentity _requester = NodeIdentity.Create();
    private static readonly NodeConfig Defaults = EffectiveConfig.Defaults.Config;

    public TrustPersistenceTests(SqlFixture fixture) => _ = fixture; // the fixture loads libduckdb

    public void Dispose()
    {
        _requester.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static string NewNodeId()
    {
        using var id = NodeIdentity.Create();
        return id.NodeId;
    }

    private TrustEngine Engine(TrustStore store) => new(() => store, _requester, () => Defaults, new NoCanaries(), TimeProvider.System,
        Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>These tests run no canaries.</summary>
    private sealed class NoCanaries : IKnownAnswers
    {
        public string ExpectedHash(string sql) => throw new InvalidOperationException("no canaries here");
    }

    private static HostVerdict Correct(string node, double latencyMs, long bytes = 0) => new(node, Verdict.Correct, "h", 1, latencyMs, bytes, null);

    [Fact]
    public void Store_keeps_vetting_outcomes_and_performance_across_reopening()
    {
        var passed = NewNodeId();
        var failed = NewNodeId();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        using (var store = TrustStore.Open(_dir))
        {
            store.SetVetting(passed, true, at);
            store.SetVetting(failed, true, at);
            store.SetVetting(failed, false, at.AddSeconds(5)); // the latest outcome wins
            store.SetPerf(passed, new TrustStore.PerfSample(12.5, 4096, 3, 2, at));
        }
        using (var store = TrustStore.Open(_dir))
        {
            var vetting = store.Vetting();
            Assert.Equal((true, at), vetting[passed]);
            Assert.Equal((false, at.AddSeconds(5)), vetting[failed]);
            Assert.Equal(new TrustStore.PerfSample(12.5, 4096, 3, 2, at), store.Perf()[passed]);
            Assert.False(store.Perf().ContainsKey(failed));
        }
    }

    [Fact]
    public void A_restarted_engine_keeps_what_it_vetted_and_measured()
    {
        var fast = NewNodeId();
        var cheater = NewNodeId();
        (double, double, int, int)? measured;
        using (var store = TrustStore.Open(_dir))
        {
            var engine = Engine(store);
            engine.Issue(JobIds.NewJobId(), "q", [Correct(fast, 10, 1000)]);
            engine.Issue(JobIds.NewJobId(), "q", [Correct(fast, 20, 3000)]);
            engine.Issue(JobIds.NewJobId(), "q", [new HostVerdict(cheater, Verdict.Incorrect, "bad", 1, 5, 0, "test")]);
            measured = engine.MeasuredPerformance(fast);
            Assert.NotNull(measured);
            Assert.Equal(2, measured.Value.Item3);
            Assert.Equal(13, measured.Value.Item1, 9); // EWMA α 0.3: 0.7·10 + 0.3·20
            Assert.False(engine.VettingOutcome(cheater));
            engine.Flag(cheater, "hides receipts: test");
        } // vetting and flags are committed when they change; closing the store commits the written-behind performance samples
        using (var store = TrustStore.Open(_dir))
        {
            var engine = Engine(store);
            Assert.Equal(measured, engine.MeasuredPerformance(fast));
            Assert.False(engine.VettingOutcome(cheater));
            Assert.Null(engine.VettingOutcome(fast)); // never canaried: still unvetted
            Assert.Null(engine.MeasuredPerformance(cheater));
            Assert.Equal("hides receipts: test", engine.FlagReason(cheater));
            engine.Unflag(cheater);
        }
        using (var store = TrustStore.Open(_dir))
        {
            Assert.Null(Engine(store).FlagReason(cheater));
        }
    }

    private static Vouch SignedVouch(NodeIdentity voucher, string vouchee, double weight = 1.0, ulong? ts = null) => new Vouch
    {
        VoucherId = voucher.NodeId,
        VoucheeId = vouchee,
        WeightPpm = Vouch.ToPpm(weight),
        TimestampMs = ts ?? (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
    }.SignWith(voucher.PublicKey.Span, b => voucher.Sign(b));

    [Fact]
    public void Gossiped_vouches_are_verified_deduplicated_and_persisted()
    {
        using var voucher = NodeIdentity.Create();
        using var forger = NodeIdentity.Create();
        var vouchee = NewNodeId();
        var vouch = SignedVouch(voucher, vouchee, 0.5);
        var wire = VouchMessage.Encode(vouch);
        using (var store = TrustStore.Open(_dir))
        {
            var engine = Engine(store);
            Assert.Equal("accepted", engine.IngestVouch(wire, voucher.NodeId));
            Assert.Equal("replay", engine.IngestVouch(wire, voucher.NodeId));
            // An older vouch of the same voucher for the same host is stale: ignored like a replay.
            Assert.Equal("replay", engine.IngestVouch(VouchMessage.Encode(SignedVouch(voucher, vouchee, 1.0, vouch.TimestampMs - 1)), voucher.NodeId));
            Assert.StartsWith("rejected: bad signature", engine.IngestVouch(VouchMessage.Encode(vouch with { WeightPpm = 1_000_000 }), voucher.NodeId));
            var forged = new Vouch { VoucherId = voucher.NodeId, VoucheeId = NewNodeId(), WeightPpm = 1_000_000, TimestampMs = 1 } with { VoucherPublicKey = forger.PublicKey.ToArray() };
            forged = forged with { Signature = forger.Sign(forged.SignedBytes()) };
            Assert.StartsWith("rejected: voucher_id is not bound", engine.IngestVouch(VouchMessage.Encode(forged), forger.NodeId));
            var self = new Vouch { VoucherId = voucher.NodeId, VoucheeId = voucher.NodeId, WeightPpm = 1_000_000, TimestampMs = 1 }.SignWith(voucher.PublicKey.Span, b => voucher.Sign(b));
            Assert.StartsWith("rejected: self-vouch", engine.IngestVouch(VouchMessage.Encode(self), voucher.NodeId));
            var future = SignedVouch(voucher, NewNodeId(), 1, (ulong)DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds());
            Assert.StartsWith("rejected: timestamp is in the future", engine.IngestVouch(VouchMessage.Encode(future), voucher.NodeId));
            Assert.StartsWith("rejected: malformed", engine.IngestVouch(wire.AsSpan(0, wire.Length - 1), voucher.NodeId));
            store.Block(voucher.NodeId, BlockKind.NodeId, "test");
            Assert.StartsWith("rejected: voucher or sender is blocked", engine.IngestVouch(VouchMessage.Encode(SignedVouch(voucher, NewNodeId())), voucher.NodeId));
            store.Unblock(voucher.NodeId);
            Assert.Equal((1, 2, 6), (engine.VouchesAccepted, engine.VouchesReplayed, engine.VouchesRejected));
            Assert.Single(engine.VouchesToShare());
            // A newer vouch replaces the stored one (weight 0 withdraws).
            Assert.Equal("accepted", engine.IngestVouch(VouchMessage.Encode(SignedVouch(voucher, vouchee, 0, vouch.TimestampMs + 1)), voucher.NodeId));
        }
        using (var store = TrustStore.Open(_dir))
        {
            var entry = Assert.Single(store.Vouches(vouchee));
            Assert.Equal(0, entry.Weight);
            Assert.NotNull(entry.Signed);
            Assert.Null(entry.Signed.Problem());
            // The replay check survives the restart too.
            Assert.Equal("replay", Engine(store).IngestVouch(wire, voucher.NodeId));
        }
    }

    [Fact]
    public void A_vouch_from_an_established_node_raises_the_voucher_term_and_one_from_a_fresh_identity_does_not()
    {
        using var established = NodeIdentity.Create();
        using var sybil = NodeIdentity.Create();
        var host = NewNodeId();
        using var store = TrustStore.Open(_dir);
        var engine = Engine(store);
        // This requester has judged the established node correct 30 times (trust ≈ 0.6).
        for (var i = 0; i < 30; i++)
        {
            engine.Issue(JobIds.NewJobId(), "q", [Correct(established.NodeId, 5)]);
        }
        var voucherTrust = engine.Evaluate(established.NodeId, Defaults).Effective;
        Assert.InRange(voucherTrust, 0.4, 0.9);
        var before = engine.Evaluate(host, Defaults);
        Assert.Equal(0, before.Voucher);

        // Twenty fresh identities vouch at full weight: they have no history with this requester, so they add nothing.
        var sybils = Enumerable.Range(0, 20).Select(_ => NodeIdentity.Create()).ToList();
        try
        {
            foreach (var s in sybils)
            {
                Assert.Equal("accepted", engine.IngestVouch(VouchMessage.Encode(SignedVouch(s, host)), s.NodeId));
            }
        }
        finally
        {
            sybils.ForEach(s => s.Dispose());
        }
        Assert.Equal("accepted", engine.IngestVouch(VouchMessage.Encode(SignedVouch(sybil, host)), sybil.NodeId));
        Assert.Equal(0, engine.Evaluate(host, Defaults).Voucher);

        // One vouch from the established node: voucher = vouch_weight · weight · its trust.
        Assert.Equal("accepted", engine.IngestVouch(VouchMessage.Encode(SignedVouch(established, host)), established.NodeId));
        var after = engine.Evaluate(host, Defaults);
        Assert.Equal(Defaults.Sybil.VouchWeight * voucherTrust, after.Voucher, 6);
        Assert.True(after.Effective > before.Effective);

        // This node's own vouch counts with full weight (its trust in itself is 1); the term is capped at 1.
        engine.CreateVouch(host, 1.0);
        Assert.Equal(Defaults.Sybil.VouchWeight * (1 + voucherTrust), engine.Evaluate(host, Defaults).Voucher, 6);
        Assert.Throws<ArgumentException>(() => engine.CreateVouch(_requester.NodeId, 1.0));
        Assert.Throws<ArgumentException>(() => engine.CreateVouch("b3:nope", 1.0));
    }
}
