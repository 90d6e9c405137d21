using System.Collections.Concurrent;
using Duckton.Core.Configuration;
using Duckton.Core.Trust;
using Duckton.Node.Economics;
using Duckton.Node.Trust;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Node.Tests;

/// <summary>The stake cache (refresh schedule on the TimeProvider), the null source of economics off, and stake in a host's assessment.</summary>
public sealed class StakeTests
{
    /// <summary>
    /// SIMULATED vaults (no chain): stake per node id, and a count of reads. The chain-backed source is tested against
    /// the local chain in Duckton.Ton.Tests.
    /// </summary>
    private sealed class SimulatedVaults : IStakeSource
    {
        public ConcurrentDictionary<string, ulong> Staked { get; } = new(StringComparer.Ordinal);
        public int ReadCount;
        public bool Live => true;
        public string Description => "SIMULATED vaults (test)";

        public Task<StakeReading> ReadAsync(string nodeId, ReadOnlyMemory<byte> publicKey, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref ReadCount);
            return Task.FromResult(new StakeReading(Staked.GetValueOrDefault(nodeId), 0, "simulated"));
        }
    }

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_reading_is_served_until_its_refresh_interval_then_read_again()
    {
        var time = TestClock.Create();
        var vaults = new SimulatedVaults();
        var book = new StakeBook(() => vaults, () => TimeSpan.FromMinutes(5), time, NullLogger.Instance);
        var peer = Peers.Create();
        vaults.Staked[peer.NodeId] = 3400UL * 1_000_000_000;
        book.Warm([(peer.NodeId, peer.Advert.PublicKey)], Bound);
        Assert.Equal(3400, book.Get(peer.NodeId, peer.Advert.PublicKey).StakeTon);
        Assert.Equal(1, vaults.ReadCount);

        // The vault changes; within the interval the cached reading is served and nothing is read.
        vaults.Staked[peer.NodeId] = 10UL * 1_000_000_000;
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(3400, book.Get(peer.NodeId, peer.Advert.PublicKey).StakeTon);
        Assert.Equal(1, vaults.ReadCount);

        // Past it, the next use re-reads (in the background; the old value is served meanwhile).
        time.Advance(TimeSpan.FromMinutes(2));
        book.Get(peer.NodeId, peer.Advert.PublicKey);
        var deadline = DateTime.UtcNow + Bound;
        while (book.Peek(peer.NodeId).StakeTon != 10 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }
        Assert.Equal(10, book.Peek(peer.NodeId).StakeTon);
        Assert.Equal(2, vaults.ReadCount);
    }

    [Fact]
    public void Economics_off_reads_nothing_and_every_stake_is_zero()
    {
        var asked = 0;
        using var rig = new TrustRig();
        rig.Engine.Stakes = new StakeBook(() => { Interlocked.Increment(ref asked); return NullStakeSource.Instance; }, () => TimeSpan.FromSeconds(1), TimeProvider.System, NullLogger.Instance);
        var peer = Peers.Create();
        var a = rig.Engine.Assess(peer, NodeConfig.Defaults, QueryOverrides.None);
        Assert.Equal(0, a.StakeTon);
        Assert.Equal(0, a.Trust.Stake);
        Assert.Equal(0, rig.Engine.Stakes.Reads);
        Assert.True(asked > 0); // the source is consulted (so switching economics on takes effect), and it is the null one
    }

    [Fact]
    public void Stake_raises_trust_by_delta_times_the_factor_and_requirements_filter_on_it()
    {
        using var rig = new TrustRig();
        var vaults = new SimulatedVaults();
        rig.Engine.Stakes = new StakeBook(() => vaults, () => TimeSpan.FromMinutes(5), TimeProvider.System, NullLogger.Instance);
        var staked = Peers.Create();
        var unstaked = Peers.Create();
        vaults.Staked[staked.NodeId] = 3400UL * 1_000_000_000;
        rig.Engine.Stakes.Warm([(staked.NodeId, staked.Advert.PublicKey), (unstaked.NodeId, unstaked.Advert.PublicKey)], Bound);
        var c = NodeConfig.Defaults with { Trust = NodeConfig.Defaults.Trust with { MinTrust = 0 } };
        var a = rig.Engine.Assess(staked, c, QueryOverrides.None);
        var b = rig.Engine.Assess(unstaked, c, QueryOverrides.None);
        Assert.Equal(0.71, a.Trust.Stake, 0.005);
        Assert.Equal(0.1 * a.Trust.Stake, a.Trust.Effective - b.Trust.Effective, 1e-9); // δ = 0.1
        // A newcomer's reputation is below the reliability floor: the selection's stake term stays 0, so the scores differ
        // only by the quality term's share of the higher trust (w_quality 0.6 of the weight sum 1.45).
        Assert.Equal(0.6 * (a.Trust.Effective - b.Trust.Effective) / 1.45, a.Selection - b.Selection, 1e-9);

        var requireStake = c with { Scheduler = c.Scheduler with { RequireStakedHosts = true } };
        Assert.NotEqual(Standing.BelowStake, rig.Engine.Assess(staked, requireStake, QueryOverrides.None).Standing);
        Assert.Equal(Standing.BelowStake, rig.Engine.Assess(unstaked, requireStake, QueryOverrides.None).Standing);
        var minStake = c with { Sybil = c.Sybil with { MinStake = 5000 } };
        Assert.Equal(Standing.BelowStake, rig.Engine.Assess(staked, minStake, QueryOverrides.None).Standing);
        Assert.NotEqual(Standing.BelowStake, rig.Engine.Assess(staked, c with { Sybil = c.Sybil with { MinStake = 3400 } }, QueryOverrides.None).Standing);
    }

    [Fact]
    public void A_grid_node_with_economics_off_never_asks_for_a_chain_stake_source()
    {
        var dir = Directory.CreateTempSubdirectory("duckton-stake-off-").FullName;
        try
        {
            var asked = 0;
            using var node = new GridNode(new GridNodeOptions
            {
                ConfigDirectory = dir,
                StakeSource = _ => { Interlocked.Increment(ref asked); throw new InvalidOperationException("economics is off: no chain source may be built"); },
            });
            var a = node.Trust.Assess(Peers.Create(), node.Config.Effective().Config, QueryOverrides.None);
            Assert.Equal(0, a.StakeTon);
            Assert.Equal(0, asked);
            Assert.False(node.Trust.Stakes.Source.Live);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
