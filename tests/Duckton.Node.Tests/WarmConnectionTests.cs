using Duckton.Core.Configuration;
using Duckton.DuckDB.Native;
using Duckton.Node.Grid;
using Duckton.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Node.Tests;

/// <summary>
/// A requester pre-connects to the hosts a query is likely to ask, not to every host it knows: real host runtimes on
/// loopback, a real requester runtime, its real connection pool.
/// </summary>
public sealed class WarmConnectionTests
{
    private const int Hosts = 5;
    private const int Sample = 3;

    [Fact]
    public async Task A_requester_keeps_warm_connections_to_at_most_candidate_sample_size_hosts_and_the_same_ones_each_round()
    {
        DuckDBNative.InitializeFromLibrary();
        var defaults = NodeConfig.Defaults;
        var config = defaults with
        {
            // A long offer timeout: the join waits for its own warm-up to finish (it is bounded by it), so the counts below
            // never see a dial of it still in flight on a slow machine.
            Scheduler = defaults.Scheduler with { Replicas = Sample, Quorum = 2, OfferTimeout = TimeSpan.FromSeconds(30) },
            Discovery = defaults.Discovery with { CandidateSampleSize = Sample },
        };
        var gate = new OpenTrustGate();
        var identities = new List<NodeIdentity>();
        var hosts = new List<GridRuntime>();
        try
        {
            var addresses = new List<string>();
            for (var i = 0; i < Hosts; i++)
            {
                var id = NodeIdentity.Create();
                identities.Add(id);
                var host = new GridRuntime(id, () => config, GridNode.EngineVersion, gate, gate, gate, IJobFaults.None, IJobObserver.None, TimeProvider.System, NullLogger.Instance);
                hosts.Add(host);
                addresses.Add(await host.ShareAsync(new WorkerOptions { MemoryBytes = 1L << 30, PerJobMemoryBytes = 256L << 20, Threads = 1, MaxJobs = 1 }, "127.0.0.1:0", true));
            }
            using var requesterId = NodeIdentity.Create();
            await using var requester = new GridRuntime(requesterId, () => config, GridNode.EngineVersion, gate, gate, gate, IJobFaults.None, IJobObserver.None,
                TimeProvider.System, NullLogger.Instance);
            await requester.JoinAsync(addresses);
            Assert.Equal(Hosts, requester.Membership.Live().Count(p => p.NodeId != requesterId.NodeId));
            await requester.WarmConnectionsAsync(force: true); // what every gossip round does (the join's own warm-up is time-bounded)

            // Two idle connections each to exactly `candidate_sample_size` of the five hosts; the join's gossip may have left
            // one connection to the others, and no more.
            int[] Idle() => [.. addresses.Select(requester.Pool.IdleTo)];
            var idle = Idle();
            Assert.Equal(Sample, idle.Count(n => n >= requester.WarmConnectionsPerPeer));
            Assert.All(idle, n => Assert.True(n <= requester.WarmConnectionsPerPeer, string.Join(",", idle)));
            Assert.True(idle.Sum() <= (Sample * requester.WarmConnectionsPerPeer) + (Hosts - Sample), string.Join(",", idle));

            // The next rounds keep the same hosts warm: nothing is dialled again.
            var opened = requester.Pool.ConnectionsOpened;
            for (var round = 0; round < 3; round++)
            {
                await requester.WarmConnectionsAsync(force: true);
            }
            Assert.Equal(opened, requester.Pool.ConnectionsOpened);
            Assert.Equal(idle, Idle());
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
            foreach (var id in identities)
            {
                id.Dispose();
            }
        }
    }
}
