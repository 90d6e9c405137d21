using System.Collections.Concurrent;
using Duckton.Core.Protocol;

namespace Duckton.Node.Grid;

/// <summary>Liveness of a known peer.</summary>
public enum PeerState
{
    Alive,
    Suspect,

    /// <summary>Convicted by the failure detector: silent far beyond its rhythm (phi) and unreachable directly and through
    /// the peers asked to probe it. Never selected; back to <see cref="Alive"/> at the next direct contact.</summary>
    Dead,
}

/// <summary>A peer the membership table knows: its latest verified advert and what this node measured.</summary>
public sealed class PeerEntry
{
    internal PeerEntry(AdvertMessage advert, DateTimeOffset lastSeen, string? nodeId = null)
    {
        Advert = advert;
        LastSeen = lastSeen;
        NodeId = nodeId ?? advert.NodeId;
    }

    /// <summary>The peer's id (kept: an advert derives it by hashing its key, and the table is sorted and searched by it).</summary>
    public string NodeId { get; }
    public string Address => Advert.ListenAddress;
    public AdvertMessage Advert { get; internal set; }
    public DateTimeOffset LastSeen { get; internal set; }

    /// <summary>Round-trip time this node measured (EWMA), in milliseconds; null before any measurement.</summary>
    public double? RttMs { get; internal set; }

    public int ConsecutiveFailures { get; internal set; }
    public PeerState State { get; internal set; }

    /// <summary>Signs of life (direct contacts, later-signed adverts) for the phi-accrual failure detector.</summary>
    internal PhiAccrual Heartbeats { get; } = new();

    /// <summary>The signing time this entry is filed under in the membership's freshness index (guarded by its lock).</summary>
    internal ulong IndexedTimestampMs { get; set; }

    internal void ObserveRtt(double ms) => RttMs = RttMs is { } old ? (0.7 * old) + (0.3 * ms) : ms;
}

/// <summary>
/// The peers this node knows from verified, signed adverts (seeds are contacted to learn them). A peer is
/// <see cref="PeerState.Suspect"/> after <see cref="SuspectAfterFailures"/> failed contacts in a row and expires
/// when it has not been seen (directly, or through a fresher advert) for the advert TTL.
/// </summary>
public sealed class Membership
{
    public const int SuspectAfterFailures = 2;
    private readonly ConcurrentDictionary<string, PeerEntry> _peers = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Func<AdvertMessage, int, string?> _verify;
    private readonly Lock _freshGate = new();

    /// <summary>Every entry filed by the signing time of its advert, freshest first (see <see cref="FreshAdverts"/>).</summary>
    private readonly SortedSet<(ulong TimestampMs, string NodeId)> _fresh = new(Freshest.Order);

    /// <summary>The entries of <see cref="_fresh"/> whose advert is one of a newcomer's first (see <see cref="IsNewcomer"/>).</summary>
    private readonly SortedSet<(ulong TimestampMs, string NodeId)> _newcomers = new(Freshest.Order);

    /// <summary>
    /// An advert with a sequence number up to this is one of the first its host signed since it started (a host re-signs
    /// every third of the advert TTL, so about its first 20–30 s).
    /// </summary>
    public const ulong NewcomerSeqs = 3;

    /// <summary>Share of an exchange's adverts kept for newcomers: one in <c>NewcomerShare</c>.</summary>
    public const int NewcomerShare = 4;

    private static bool IsNewcomer(AdvertMessage advert) => advert.Seq <= NewcomerSeqs;

    /// <param name="verify">
    /// Checks an advert's signature and proof of work (null: <see cref="AdvertMessage.Verify"/>). Only the grid simulator
    /// passes its own: one that runs <see cref="AdvertMessage.Verify"/> once per signed advert and shares the outcome
    /// among the simulated nodes, which all receive the very same advert object.
    /// </param>
    public Membership(string selfNodeId, TimeProvider? time = null, int minPowBits = ProofOfWork.DefaultBits, Func<AdvertMessage, int, string?>? verify = null)
    {
        SelfNodeId = selfNodeId;
        _time = time ?? TimeProvider.System;
        MinPowBits = minPowBits;
        _verify = verify ?? (static (advert, bits) => advert.Verify(bits));
    }

    public string SelfNodeId { get; }
    /// <summary>Least proof-of-work bits an advert must carry (<c>sybil.pow_difficulty_bits</c>, refreshed every gossip round).</summary>
    public int MinPowBits { get; set; }
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(30);
    public int Capacity { get; set; } = 50_000;

    /// <summary>Called after a peer's advert was accepted or a direct contact succeeded (the node persists what it has seen).</summary>
    public Action<PeerEntry>? Observed { get; set; }

    private void Notify(string nodeId)
    {
        if (Observed is { } observed && _peers.TryGetValue(nodeId, out var e))
        {
            observed(e);
        }
    }

    /// <summary>Verifies and stores an advert; returns null when accepted (or already known), else the reason it was refused.</summary>
    public string? Ingest(AdvertMessage advert, bool direct = false)
    {
        ArgumentNullException.ThrowIfNull(advert);
        var nodeId = advert.NodeId;
        if (nodeId == SelfNodeId)
        {
            return null;
        }
        var now = _time.GetUtcNow();
        var signedAt = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(advert.TimestampMs, (ulong)long.MaxValue / 2));
        if (signedAt > now + TimeSpan.FromSeconds(60))
        {
            return "advert timestamp is in the future";
        }
        if (now - signedAt > Ttl)
        {
            return "advert expired";
        }
        if (_peers.TryGetValue(nodeId, out var known) && advert.Seq <= known.Advert.Seq)
        {
            if (direct)
            {
                MarkSeen(known, now);
                Notify(nodeId);
            }
            return null;
        }
        if (_verify(advert, MinPowBits) is { } why)
        {
            return why;
        }
        if (known is null && _peers.Count >= Capacity)
        {
            return "membership table full";
        }
        var entry = _peers.AddOrUpdate(nodeId, _ => new PeerEntry(advert, direct ? now : signedAt, nodeId), (_, e) =>
        {
            e.Advert = advert;
            var seen = direct ? now : signedAt;
            if (seen > e.LastSeen)
            {
                e.LastSeen = seen;
            }
            if (direct)
            {
                e.ConsecutiveFailures = 0;
                e.State = PeerState.Alive;
            }
            else if (e.State == PeerState.Dead)
            {
                // Someone heard from it since we convicted it: probe again rather than trust either view.
                e.State = PeerState.Suspect;
            }
            return e;
        });
        entry.Heartbeats.Heartbeat(direct ? now : signedAt, Phi);
        lock (_freshGate)
        {
            // Re-filed under the signing time of the advert the entry holds now (the last writer's, under races).
            _fresh.Remove((entry.IndexedTimestampMs, nodeId));
            _newcomers.Remove((entry.IndexedTimestampMs, nodeId));
            entry.IndexedTimestampMs = entry.Advert.TimestampMs;
            _fresh.Add((entry.IndexedTimestampMs, nodeId));
            if (IsNewcomer(entry.Advert))
            {
                _newcomers.Add((entry.IndexedTimestampMs, nodeId));
            }
        }
        Notify(nodeId);
        return null;
    }

    private void MarkSeen(PeerEntry e, DateTimeOffset now)
    {
        e.Heartbeats.Heartbeat(now, Phi);
        e.LastSeen = now;
        e.ConsecutiveFailures = 0;
        e.State = PeerState.Alive;
    }

    /// <summary>A successful direct contact (gossip exchange or job round trip) with a measured round-trip time.</summary>
    public void ObserveContact(string nodeId, double? rttMs)
    {
        if (_peers.TryGetValue(nodeId, out var e))
        {
            MarkSeen(e, _time.GetUtcNow());
            if (rttMs is { } ms)
            {
                e.ObserveRtt(ms);
            }
            Notify(nodeId);
        }
    }

    /// <summary>A failed direct contact.</summary>
    public void ObserveFailure(string nodeId)
    {
        if (_peers.TryGetValue(nodeId, out var e))
        {
            e.ConsecutiveFailures++;
            if (e.ConsecutiveFailures >= SuspectAfterFailures && e.State == PeerState.Alive)
            {
                e.State = PeerState.Suspect;
            }
        }
    }

    /// <summary>The failure detector's parameters (<c>[liveness.phi]</c>, refreshed every gossip round).</summary>
    public PhiOptions Phi { get; set; } = PhiOptions.Default;

    /// <summary>How unlikely the peer's silence is given its rhythm (phi-accrual); 0 for unknown peers.</summary>
    public double PhiOf(string nodeId) => _peers.TryGetValue(nodeId, out var e) ? e.Heartbeats.Phi(_time.GetUtcNow(), Phi) : 0;

    /// <summary>The failure detector convicted the peer: it stays listed (and is contacted again) but is never selected.</summary>
    public void MarkDead(string nodeId)
    {
        if (_peers.TryGetValue(nodeId, out var e))
        {
            e.State = PeerState.Dead;
        }
    }

    /// <summary>The peer is silent beyond its rhythm and did not answer us, but another peer reached it.</summary>
    public void MarkSuspect(string nodeId)
    {
        if (_peers.TryGetValue(nodeId, out var e) && e.State == PeerState.Alive)
        {
            e.State = PeerState.Suspect;
        }
    }

    /// <summary>Drops peers not seen for the TTL.</summary>
    public int Expire()
    {
        var now = _time.GetUtcNow();
        var removed = 0;
        foreach (var (id, e) in _peers)
        {
            if (now - e.LastSeen > Ttl && _peers.TryRemove(id, out _))
            {
                removed++;
                lock (_freshGate)
                {
                    _fresh.Remove((e.IndexedTimestampMs, id));
                    _newcomers.Remove((e.IndexedTimestampMs, id));
                }
            }
        }
        return removed;
    }

    /// <summary>How many peers are live (not expired), suspects included; one pass, no list.</summary>
    public int CountLive()
    {
        var now = _time.GetUtcNow();
        var count = 0;
        foreach (var e in _peers.Values)
        {
            if (now - e.LastSeen <= Ttl)
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Live peers (not expired), suspects included.</summary>
    public IReadOnlyList<PeerEntry> Live()
    {
        var now = _time.GetUtcNow();
        return _peers.Values.Where(e => now - e.LastSeen <= Ttl).OrderBy(e => e.NodeId, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Fresh adverts to gossip on (at most <paramref name="max"/> of live, alive peers). Up to one in
    /// <see cref="NewcomerShare"/> are newcomers' (an advert among the first <see cref="NewcomerSeqs"/> its host signed),
    /// most recently signed first; the rest are the most recently signed of all (ties by node id). Runs on every exchange
    /// in both directions, so it reads them off indexes kept in signing order instead of scanning or sorting the table:
    /// O(max + log n) rather than O(n log n), which made a seed answering every node of a large grid quadratic.
    /// </summary>
    /// <remarks>
    /// Why newcomers get slots: by signing time alone a new host's advert competes at every relay with every advert
    /// re-signed in the same seconds (n / 2 per heartbeat in an n-host grid), so in a large grid it spread mostly through
    /// its own exchanges, in O(n / fanout) heartbeats. With reserved slots every host that learns of it passes it on in
    /// its next exchanges, an epidemic in O(log n) heartbeats. A quarter of the slots bounds what a flood of new
    /// identities (each paying its proof of work) can take from the regular refresh.
    /// </remarks>
    public IReadOnlyList<AdvertMessage> FreshAdverts(int max)
    {
        if (max <= 0)
        {
            return [];
        }
        var now = _time.GetUtcNow();
        var result = new List<AdvertMessage>(Math.Min(max, 64));
        lock (_freshGate)
        {
            var newcomerSlots = max / NewcomerShare;
            if (newcomerSlots > 0)
            {
                Take(_newcomers, newcomerSlots, skipTaken: false);
            }
            Take(_fresh, max, skipTaken: result.Count > 0);
        }
        return result;

        void Take(SortedSet<(ulong TimestampMs, string NodeId)> index, int upTo, bool skipTaken)
        {
            var taken = result.Count;
            foreach (var (timestampMs, id) in index)
            {
                // Entries that are expired, suspect or dead stay filed until they change or expire: skip them here.
                if (_peers.TryGetValue(id, out var e) && e.Advert.TimestampMs == timestampMs && now - e.LastSeen <= Ttl && e.State == PeerState.Alive
                    && !(skipTaken && Taken(e.Advert, taken)))
                {
                    result.Add(e.Advert);
                    if (result.Count == upTo)
                    {
                        break;
                    }
                }
            }
        }

        bool Taken(AdvertMessage advert, int count)
        {
            for (var i = 0; i < count; i++)
            {
                if (ReferenceEquals(result[i], advert))
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Most recently signed first; on equal times by node id.</summary>
    private sealed class Freshest : IComparer<(ulong TimestampMs, string NodeId)>
    {
        public static readonly Freshest Order = new();

        public int Compare((ulong TimestampMs, string NodeId) x, (ulong TimestampMs, string NodeId) y)
        {
            var byTime = y.TimestampMs.CompareTo(x.TimestampMs);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.NodeId, y.NodeId);
        }
    }

    /// <summary>
    /// Up to <paramref name="count"/> live peers (suspects included) chosen uniformly at random, skipping those
    /// <paramref name="skip"/> names; one pass over the table (reservoir sampling), in no particular order.
    /// </summary>
    public IReadOnlyList<PeerEntry> SampleLive(int count, Random random, Func<PeerEntry, bool>? skip = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (count <= 0)
        {
            return [];
        }
        var now = _time.GetUtcNow();
        var chosen = new List<PeerEntry>(Math.Min(count, 64));
        var seen = 0;
        foreach (var e in _peers.Values)
        {
            if (now - e.LastSeen > Ttl || (skip is not null && skip(e)))
            {
                continue;
            }
            seen++;
            if (chosen.Count < count)
            {
                chosen.Add(e);
            }
            else if (random.Next(seen) is var j && j < count)
            {
                chosen[j] = e;
            }
        }
        return chosen;
    }

    public PeerEntry? Find(string nodeId) => _peers.TryGetValue(nodeId, out var e) ? e : null;
}
