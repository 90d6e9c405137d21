using System.Diagnostics.CodeAnalysis;
using Duckton.Core.Protocol;

namespace Duckton.Node.Grid;

/// <summary>
/// The transport-free rules of a gossip exchange, shared by <see cref="GridRuntime"/> (over TLS connections) and by the
/// in-process grid simulator (Duckton.Simulation), so the simulator measures this code rather than a copy of it: whom a
/// round contacts, which adverts an exchange carries (both ways), how a received advert is taken in, and when a host
/// re-signs its own advert.
/// </summary>
public static class Gossip
{
    /// <summary>Most adverts of other peers one exchange carries (the freshest), besides the sender's own.</summary>
    public const int AdvertsPerExchange = 32;

    /// <summary>
    /// The peers one round exchanges with: the seeds, then <paramref name="fanout"/> live peers chosen uniformly at random
    /// among those not reached through a seed address. Every seed is asked while this node knows fewer live peers than
    /// <paramref name="fanout"/> (joining, or cut off); after that one seed, picked at random, with probability
    /// fanout / live peers. Asking every seed every round made each seed answer every host of the grid every heartbeat
    /// (O(n) exchanges per seed per round); this way a seed answers about fanout / seeds of them, whatever the grid's size,
    /// and a grid smaller than the fanout behaves as before.
    /// </summary>
    /// <param name="askEverySeed">Ask every seed whatever this node knows (a join: the seeds just given must be reached).</param>
    public static List<(string Address, string? NodeId)> Targets(IReadOnlyList<string> seeds, Membership membership, int fanout, Random random, bool askEverySeed = false)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(membership);
        ArgumentNullException.ThrowIfNull(random);
        var targets = new List<(string Address, string? NodeId)>(seeds.Count + Math.Max(0, fanout));
        if (seeds.Count > 0)
        {
            var live = membership.CountLive();
            if (askEverySeed || live < Math.Max(1, fanout))
            {
                foreach (var s in seeds)
                {
                    targets.Add((s, null));
                }
            }
            else if (random.NextDouble() * live < fanout)
            {
                targets.Add((seeds[random.Next(seeds.Count)], null));
            }
        }
        // A peer already asked through its seed address is not asked twice.
        var asked = targets.Count == 0 ? null : new HashSet<string>(targets.Select(t => t.Address), StringComparer.Ordinal);
        foreach (var p in membership.SampleLive(fanout, random, p => asked is not null && asked.Contains(p.Address)))
        {
            targets.Add((p.Address, p.NodeId));
        }
        return targets;
    }

    /// <summary>
    /// The adverts an exchange carries, in either direction: the sender's own (when hosting) and the
    /// <see cref="AdvertsPerExchange"/> most recently signed adverts of live peers it knows.
    /// </summary>
    public static IReadOnlyList<AdvertMessage> AdvertsToShare(IReadOnlyList<AdvertMessage> self, Membership membership) =>
        [.. self, .. membership.FreshAdverts(AdvertsPerExchange)];

    /// <summary>An advert received from <paramref name="fromPeer"/>: a direct sign of life when the peer sent its own.</summary>
    public static string? TakeAdvert(Membership membership, AdvertMessage advert, string fromPeer) =>
        membership.Ingest(advert, direct: advert.NodeId == fromPeer);

    /// <summary>
    /// True when a host must re-sign its advert: none yet, or signed more than a third of the advert TTL (at least 1 s)
    /// ago, so a fresh copy reaches peers before the one they hold expires.
    /// </summary>
    public static bool AdvertIsStale([NotNullWhen(false)] AdvertMessage? current, ulong nowMs, TimeSpan ttl)
    {
        var refreshMs = (ulong)Math.Max(1000, ttl.TotalMilliseconds / 3);
        return current is null || nowMs - current.TimestampMs > refreshMs;
    }
}
