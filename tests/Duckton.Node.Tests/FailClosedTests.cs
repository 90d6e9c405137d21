using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Transport;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Tests;

/// <summary>
/// Every security decision refuses when the store or verifier behind it fails, and says why in the log. The failures
/// are injected (a store that throws from now on): that is the path under test, not a stand-in for the real check.
/// </summary>
public sealed class FailClosedTests : IDisposable
{
    private readonly TrustRig _rig = new();

    private void AssertLogged(int eventId, string nodeId, Exception cause)
    {
        var entry = Assert.Single(_rig.Logger.Entries, e => e.Id.Id == eventId);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Contains(nodeId, entry.Message, StringComparison.Ordinal);
        Assert.Contains("fail closed", entry.Message, StringComparison.Ordinal);
        Assert.Same(cause, entry.Exception);
    }

    [Fact]
    public void The_deny_list_blocks_a_host_when_the_store_cannot_be_read()
    {
        var peer = Peers.Create();
        Assert.False(_rig.Engine.IsBlocked(peer.NodeId)); // a working store does not list it
        Assert.Empty(_rig.Logger.Entries);

        var failure = new IOException("trust store unreadable (injected)");
        _rig.StoreFailure = failure;
        Assert.True(_rig.Engine.IsBlocked(peer.NodeId));
        AssertLogged(1300, peer.NodeId, failure);
    }

    [Fact]
    public void A_bid_is_refused_when_its_attestation_cannot_be_checked()
    {
        var peer = Peers.Create(attestation: 2);
        var bid = new BidMessage(JobIds.NewJobId(), 1 << 30, 2, 1, 2, 10) { Evidence = [1, 2, 3] };
        var failure = new InvalidOperationException("verifier settings unreadable (injected)");
        _rig.ConfigFailure = failure;
        var refused = _rig.Engine.CheckBid(peer, 42, bid);
        Assert.NotNull(refused);
        Assert.Contains("could not be checked", refused, StringComparison.Ordinal);
        AssertLogged(1301, peer.NodeId, failure);

        // The same bid with a readable configuration is accepted (for a job without a floor it counts as L0).
        _rig.ConfigFailure = null;
        Assert.Null(_rig.Engine.CheckBid(peer, 42, bid));
    }

    [Fact]
    public async Task The_coordinator_refuses_a_bid_when_its_trust_gate_throws()
    {
        await using var pool = new ConnectionPool(_rig.Identity, new TransportOptions());
        var coordinator = new Coordinator(_rig.Identity, pool, new Membership(_rig.Identity.NodeId), "duckdb-test", new BrokenGate(), _rig.Engine, TimeProvider.System, _rig.Logger);
        var peer = Peers.Create();
        var refused = coordinator.CheckBid(peer, 7, new BidMessage(JobIds.NewJobId(), 1 << 30, 2, 1, 0, 10));
        Assert.NotNull(refused);
        Assert.Contains("could not be checked", refused, StringComparison.Ordinal);
        AssertLogged(1301, peer.NodeId, BrokenGate.Failure);
    }

    [Fact]
    public void A_host_is_not_selected_when_its_trust_cannot_be_assessed()
    {
        var peer = Peers.Create();
        var config = NodeConfig.Defaults;
        var context = new CandidateContext(JobIds.NewJobId(), "SELECT 1", config, QueryOverrides.None);
        // A working store: a newcomer is usable (a canary vets it).
        Assert.Equal(Standing.Unvetted, _rig.Engine.Assess(peer, config, QueryOverrides.None).Standing);
        Assert.Single(_rig.Engine.Usable([peer], config, QueryOverrides.None));
        Assert.Single(_rig.Engine.Shadows([peer], context with { Config = WithShadows(config) }));

        var failure = new IOException("trust store unreadable (injected)");
        _rig.StoreFailure = failure;
        var assessment = _rig.Engine.Assess(peer, config, QueryOverrides.None);
        Assert.Equal(Standing.Unassessable, assessment.Standing);
        Assert.Equal(0, assessment.Trust.Effective);
        AssertLogged(1302, peer.NodeId, failure);
        Assert.Empty(_rig.Engine.Usable([peer], config, QueryOverrides.None));
        Assert.Empty(_rig.Engine.Rank([peer], context));
        Assert.Empty(_rig.Engine.Shadows([peer], context with { Config = WithShadows(config) }));
    }

    private static NodeConfig WithShadows(NodeConfig c) => c with { Trust = c.Trust with { ShadowReplicas = 1 } };

    public void Dispose() => _rig.Dispose();

    private sealed class BrokenGate : ITrustGate
    {
        public static readonly Exception Failure = new InvalidOperationException("gate broken (injected)");

        public string? CheckBid(PeerEntry host, ulong nonce, BidMessage bid) => throw Failure;
        public bool IsBlocked(string nodeId) => throw Failure;
        public string? Evidence(string nodeId) => throw Failure;
        public IReadOnlyList<PeerEntry> Rank(IReadOnlyList<PeerEntry> candidates, CandidateContext context) => throw Failure;
    }
}
