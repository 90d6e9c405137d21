using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.Node.Grid;
using Duckton.Node.Trust;

namespace Duckton.Node.Tests;

/// <summary>
/// The requester's selection rules, on a <see cref="TrustEngine"/> built directly over a real trust store (no grid, no
/// processes): where a host stands, who is ranked and in which order, and who is sent as a shadow replica.
/// </summary>
public sealed class TrustRulesTests : IDisposable
{
    private readonly TrustRig _rig = new();
    private static readonly NodeConfig Defaults = NodeConfig.Defaults;

    private Standing StandingOf(PeerEntry peer, NodeConfig? config = null, QueryOverrides? overrides = null) =>
        _rig.Engine.Assess(peer, config ?? Defaults, overrides ?? QueryOverrides.None).Standing;

    private static CandidateContext Context(NodeConfig config, QueryOverrides? overrides = null) =>
        new(JobIds.NewJobId(), "SELECT 1", config, overrides ?? QueryOverrides.None);

    private static NodeConfig With(int replicas = 3, int quorum = 2, int shadows = 1, bool probationFills = true) => Defaults with
    {
        Scheduler = Defaults.Scheduler with { Replicas = replicas, Quorum = quorum },
        Trust = Defaults.Trust with { ShadowReplicas = shadows, ProbationFillsQuorum = probationFills },
    };

    /// <summary>One host of each standing, each on its own network (so diversity never reorders them).</summary>
    private (PeerEntry Trusted, PeerEntry Vetted, PeerEntry Unvetted, PeerEntry Failed) Cast()
    {
        var (trusted, vetted, unvetted, failed) = (_rig.Peer(address: "10.0.1.1:1"), _rig.Peer(address: "10.0.2.1:1"), _rig.Peer(address: "10.0.3.1:1"), _rig.Peer(address: "10.0.4.1:1"));
        _rig.EarnTrust(trusted, Defaults);
        _rig.Issue(Verdicts.Shadow(vetted, correct: true));
        _rig.Issue(Verdicts.Shadow(failed, correct: false));
        return (trusted, vetted, unvetted, failed);
    }

    // ---------------------------------------------------------------- standing

    [Fact]
    public void A_newcomer_is_unvetted_until_a_checked_answer_vets_it_and_a_wrong_one_fails_it()
    {
        var peer = _rig.Peer();
        Assert.Equal(Standing.Unvetted, StandingOf(peer));

        _rig.Issue(Verdicts.Shadow(peer, correct: true));
        Assert.Equal(Standing.Vetted, StandingOf(peer));
        Assert.True(_rig.Engine.IsVetted(peer.NodeId));

        _rig.Issue(Verdicts.Incorrect(peer));
        Assert.Equal(Standing.Failed, StandingOf(peer));
        Assert.False(_rig.Engine.IsVetted(peer.NodeId));
    }

    [Fact]
    public void Correct_receipts_earn_a_host_trust_up_to_min_trust_and_a_penalty_takes_it_away()
    {
        var peer = _rig.Peer();
        var before = _rig.Engine.Assess(peer, Defaults, QueryOverrides.None).Trust.Effective;
        Assert.True(before < Defaults.Trust.MinTrust, $"a newcomer starts below min_trust ({before})");

        var receipts = _rig.EarnTrust(peer, Defaults);
        Assert.True(receipts > 1, "one receipt must not be enough to be trusted");
        var trusted = _rig.Engine.Assess(peer, Defaults, QueryOverrides.None);
        Assert.True(trusted.Trust.Effective >= Defaults.Trust.MinTrust);
        Assert.Equal(receipts, trusted.Observations);

        // One wrong answer: a penalty, and the host is no longer selectable as trusted.
        _rig.Issue(Verdicts.Incorrect(peer));
        Assert.Equal(Standing.Failed, StandingOf(peer));
    }

    [Fact]
    public void The_deny_list_outranks_earned_trust()
    {
        var peer = _rig.Peer();
        _rig.EarnTrust(peer, Defaults);
        _rig.RealStore.Block(peer.NodeId, BlockKind.NodeId, "test");
        Assert.Equal(Standing.Blocked, StandingOf(peer));
        Assert.Empty(_rig.Engine.Rank([peer], Context(Defaults)));
    }

    [Fact]
    public void A_flagged_host_fails_whatever_it_earned()
    {
        var peer = _rig.Peer();
        _rig.EarnTrust(peer, Defaults);
        _rig.Engine.Flag(peer.NodeId, "hid receipts (test)");
        Assert.Equal(Standing.Failed, StandingOf(peer));
        Assert.Equal(0, _rig.Engine.Assess(peer, Defaults, QueryOverrides.None).Trust.Effective);

        _rig.Engine.Unflag(peer.NodeId);
        Assert.Equal(Standing.Trusted, StandingOf(peer));
    }

    [Fact]
    public void The_attestation_floor_refuses_a_low_claim_and_leaves_an_unchecked_high_claim_to_a_probe()
    {
        var config = Defaults with { Trust = Defaults.Trust with { MinAttestation = AttestationLevel.L1 } };
        Assert.Equal(Standing.BelowAttestation, StandingOf(_rig.Peer(attestation: 0), config));
        Assert.Equal(Standing.Unvetted, StandingOf(_rig.Peer(attestation: 2), config));
        // Without the floor the low claim is an ordinary newcomer.
        Assert.Equal(Standing.Unvetted, StandingOf(_rig.Peer(attestation: 0)));
    }

    [Fact]
    public void Probation_admits_newcomers_under_the_default_policy_only()
    {
        var peer = _rig.Peer();
        _rig.Issue(Verdicts.Shadow(peer, correct: true));
        Assert.Equal(Standing.Vetted, StandingOf(peer));
        // A min_trust someone chose (here per call) is a hard floor: the vetted newcomer is below it.
        Assert.Equal(Standing.BelowTrust, StandingOf(peer, overrides: QueryOverrides.None with { MinTrust = 0.7, MinTrustSource = ConfigSource.Call }));
        // Internal and Sensitive data raise the floors (L1 / L2 attestation): an unattested newcomer is not selectable.
        Assert.Equal(Standing.BelowAttestation, StandingOf(peer, overrides: QueryOverrides.None with { DataClass = DataClass.Internal }));
        Assert.Equal(Standing.BelowAttestation, StandingOf(peer, overrides: QueryOverrides.None with { DataClass = DataClass.Sensitive }));
    }

    // ---------------------------------------------------------------- ranking

    [Fact]
    public void Ranking_puts_trusted_hosts_first_and_fills_the_quorum_with_vetted_newcomers_only_while_short()
    {
        var (trusted, vetted, unvetted, failed) = Cast();
        // One trusted host of the three replicas: the vetted newcomer fills in behind it; unvetted and failed never rank.
        var ranked = _rig.Engine.Rank([unvetted, failed, vetted, trusted], Context(With(replicas: 3)));
        Assert.Equal([trusted.NodeId, vetted.NodeId], ranked.Select(p => p.NodeId));

        // Without probation filling the quorum, only the trusted host ranks.
        Assert.Equal([trusted.NodeId], _rig.Engine.Rank([vetted, trusted], Context(With(probationFills: false))).Select(p => p.NodeId));

        // Enough trusted hosts for the replicas (here one): the newcomer is no longer counted.
        Assert.Equal([trusted.NodeId], _rig.Engine.Rank([vetted, trusted], Context(With(replicas: 1, quorum: 1))).Select(p => p.NodeId));
    }

    [Fact]
    public void Ranking_keeps_hosts_from_one_network_apart_when_others_are_available()
    {
        var a1 = _rig.Peer(address: "10.0.1.1:1");
        var a2 = _rig.Peer(address: "10.0.1.2:1");
        var b = _rig.Peer(address: "10.0.2.1:1");
        var order = new[] { a1, a2, b };
        // Related by address prefix (/24), and in rank order: the unrelated host moves up into the two picks.
        var diversified = TrustEngine.Diversify(order, 2, (x, y) => TrustEngine.SamePrefix(x.Address, y.Address));
        Assert.Equal([a1.NodeId, b.NodeId, a2.NodeId], diversified.Select(p => p.NodeId));
        // Nothing unrelated left: rank order stands.
        Assert.Equal([a1.NodeId, a2.NodeId], TrustEngine.Diversify(new[] { a1, a2 }, 2, (x, y) => true).Select(p => p.NodeId));

        Assert.True(TrustEngine.SamePrefix("10.0.1.1:5000", "10.0.1.200:6000"));
        Assert.False(TrustEngine.SamePrefix("10.0.1.1:5000", "10.0.2.1:5000"));
        Assert.True(TrustEngine.SamePrefix("[2001:db8:0:1::1]:5000", "[2001:db8:0:1::2]:5000"));
        Assert.False(TrustEngine.SamePrefix("[2001:db8:0:1::1]:5000", "[2001:db8:0:2::1]:5000"));
        Assert.False(TrustEngine.SamePrefix("host.example:5000", "host.example:5000"));
    }

    // ---------------------------------------------------------------- shadows

    [Fact]
    public void Shadows_are_the_least_observed_newcomers_never_trusted_or_failed_hosts()
    {
        var (trusted, seasoned, fresh, failed) = Cast();
        _rig.Issue(Verdicts.Shadow(seasoned, correct: true)); // observed twice now, the fresh host never

        var candidates = new[] { trusted, failed, seasoned, fresh };
        Assert.Equal([fresh.NodeId], _rig.Engine.Shadows(candidates, Context(With(shadows: 1))).Select(p => p.NodeId));
        Assert.Equal([fresh.NodeId, seasoned.NodeId], _rig.Engine.Shadows(candidates, Context(With(shadows: 4))).Select(p => p.NodeId));
        Assert.Empty(_rig.Engine.Shadows(candidates, Context(With(shadows: 0))));
    }

    [Fact]
    public void An_explicit_min_trust_does_not_stop_shadowing_but_the_data_class_does()
    {
        var fresh = _rig.Peer();
        var floor = QueryOverrides.None with { MinTrust = 0.9, MinTrustSource = ConfigSource.Call };
        Assert.Single(_rig.Engine.Shadows([fresh], Context(With(), floor)));
        Assert.Empty(_rig.Engine.Shadows([fresh], Context(With(), QueryOverrides.None with { DataClass = DataClass.Internal })));
    }

    // ---------------------------------------------------------------- hidden receipts

    [Fact]
    public void A_hosts_receipt_digest_is_checked_once_per_advert_however_many_receipts_it_was_delivered()
    {
        // 300,000 receipts delivered to one host (a busy requester after some minutes), then its advert.
        var host = _rig.Peer();
        var fingerprints = Enumerable.Range(1, 300_000).Select(i => (ulong)i * 0x9E3779B97F4A7C15UL).ToList();
        _rig.Engine.NoteDelivered(host.NodeId, fingerprints);
        _rig.Time.Advance(TimeSpan.FromSeconds(10));
        var honest = Advert(host, (ulong)fingerprints.Count, TrustEngine.Digest(fingerprints));
        Assert.Null(_rig.Engine.CheckReceiptDigest(honest));

        // Every query assesses the host again while receipts keep being delivered: a check of the same advert costs
        // nothing more (it read all 300,000 again after each new delivery: about 44 ms per check here).
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 100; i++)
        {
            _rig.Time.Advance(TimeSpan.FromMilliseconds(5));
            _rig.Engine.NoteDelivered(host.NodeId, [(ulong)(1_000_000 + i)]);
            Assert.Null(_rig.Engine.CheckReceiptDigest(honest));
        }
        Assert.True(watch.ElapsedMilliseconds < 300, $"100 checks of one advert took {watch.ElapsedMilliseconds} ms");
        Assert.Null(_rig.Engine.FlagReason(host.NodeId));

        // The next advert is checked against every delivery before its cutoff: one receipt short is hiding one.
        _rig.Time.Advance(TimeSpan.FromSeconds(10));
        var hiding = Advert(host, (ulong)fingerprints.Count + 99, TrustEngine.Digest(fingerprints));
        Assert.NotNull(_rig.Engine.CheckReceiptDigest(hiding));
        Assert.Contains("hides receipts", _rig.Engine.FlagReason(host.NodeId));
    }

    [Fact]
    public void An_advert_signed_ahead_of_this_nodes_clock_is_checked_again_until_its_cutoff_has_passed()
    {
        var host = _rig.Peer();
        _rig.Engine.NoteDelivered(host.NodeId, [1, 2, 3]);
        // Signed 10 s in this node's future: a delivery now still falls before its cutoff, so the verdict is not final.
        var ahead = Advert(host, 3, TrustEngine.Digest([1UL, 2, 3]), _rig.Time.GetUtcNow() + TimeSpan.FromSeconds(10));
        Assert.Null(_rig.Engine.CheckReceiptDigest(ahead));
        _rig.Engine.NoteDelivered(host.NodeId, [4]);
        Assert.NotNull(_rig.Engine.CheckReceiptDigest(ahead));
    }

    private AdvertMessage Advert(PeerEntry host, ulong count, byte[] digest, DateTimeOffset? signedAt = null) =>
        host.Advert with { TimestampMs = (ulong)(signedAt ?? _rig.Time.GetUtcNow()).ToUnixTimeMilliseconds(), ReceiptCount = count, ReceiptDigest = digest };

    public void Dispose() => _rig.Dispose();
}
