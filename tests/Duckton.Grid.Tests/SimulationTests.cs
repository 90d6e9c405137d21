using Duckton.Simulation;
using Xunit;

namespace Duckton.Grid.Tests;

/// <summary>
/// The grid simulator runs the product's membership gossip (Membership, Gossip, signed adverts), receipt gossip and
/// selection (TrustEngine, Coordinator.Eligible) for a few hundred hosts on a virtual clock.
/// </summary>
public sealed class SimulationTests
{
    private const int Hosts = 200;

    // Push-pull gossip spreads news to n hosts in O(log n) rounds: the bounds below allow log2(n) heartbeats (8 for 200
    // hosts). The measured figures are 4–6 heartbeats to 90% and under 2 heartbeats for a newcomer to reach 99% of hosts.
    private static readonly int LogBound = (int)Math.Ceiling(Math.Log2(Hosts));

    private static SimulationResult Run(int fanout) =>
        new GridSimulator(new SimulationOptions { Nodes = Hosts, Rounds = 2 * LogBound, JoinRound = LogBound, Fanout = fanout }).Run();

    [Fact]
    public void A_grid_of_200_hosts_converges_within_log_n_heartbeats_and_a_newcomer_becomes_known_and_selectable()
    {
        var r = Run(fanout: 6);
        var ninety = r.Samples.FirstOrDefault(s => s.MeanKnown >= 0.9)?.Round;
        Assert.True(ninety is { } k && k <= LogBound, $"hosts knew 90% of the grid on average only at heartbeat {ninety?.ToString() ?? "never"} (bound {LogBound})");
        var heartbeat = r.Options.Heartbeat.TotalSeconds;
        Assert.True(r.NewcomerKnownBy99Seconds is { } known && known <= LogBound * heartbeat,
            $"the newcomer was known by 99% of hosts after {r.NewcomerKnownBy99Seconds?.ToString() ?? "never"} s (bound {LogBound * heartbeat} s)");
        Assert.True(r.NewcomerSelectableSeconds is { } selectable && selectable <= LogBound * heartbeat,
            $"the newcomer became selectable after {r.NewcomerSelectableSeconds?.ToString() ?? "never"} s");
        // Every exchange carries at most 33 adverts each way: bytes per host per heartbeat do not depend on n.
        Assert.InRange(r.SteadyBytesPerNode, 10 * 1024, 400 * 1024);
        // Seeds are asked by a node only while it knows fewer peers than the fanout: a seed is not every host's hub.
        Assert.True(r.SteadySeedBytes < 3 * r.SteadyBytesPerNode, $"a seed moved {r.SteadySeedBytes:0} bytes per heartbeat against {r.SteadyBytesPerNode:0} for a host");
        // Receipt gossip: the requester pushed its signed receipts and hosts checked and kept them.
        Assert.True(r.ReceiptsPerExchange > 0 && r.HostsReachedPerReceipt >= 1, $"receipts per exchange {r.ReceiptsPerExchange}, hosts per receipt {r.HostsReachedPerReceipt}");
        Assert.Null(r.Stopped);
    }

    [Fact]
    public void Without_fanout_the_grid_does_not_converge()
    {
        // Hosts then only hear from the seeds while they join: the log n bound above must fail.
        var r = Run(fanout: 0);
        Assert.DoesNotContain(r.Samples, s => s.Round <= LogBound && s.MeanKnown >= 0.9);
        Assert.True(r.NewcomerKnownBy99Seconds is null || r.NewcomerKnownBy99Seconds > LogBound * r.Options.Heartbeat.TotalSeconds);
    }
}
