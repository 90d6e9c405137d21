using System.Collections.Concurrent;
using Duckton.Core.Protocol;

namespace Duckton.Node.Grid;

/// <summary>Liveness of a known peer.</summary>
public enum PeerState
{
    Alive,
    Suspect,
}

/// <summary>A peer the membership table knows: its latest verified advert and what this node measured.</summary>
public sealed class PeerEntry
{
    internal PeerEntry(AdvertMessage advert, DateTimeOffset lastSeen)
    {
        Advert = advert;
        LastSeen = lastSeen;
    }

    public string NodeId => Advert.NodeId;
    public string Address => Advert.ListenAddress;
    public AdvertMessage Advert { get; internal set; }
    public DateTimeOffset LastSeen { get; internal set; }

    /// <summary>Round-trip time this node measured (EWMA), in milliseconds; null before any measurement.</summary>
    public double? RttMs { get; internal set; }

    public int ConsecutiveFailures { get; internal set; }
    public PeerState State { get; internal set; }

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

    public Membership(string selfNodeId, TimeProvider? time = null, int minPowBits = ProofOfWork.DefaultBits)
    {
        SelfNodeId = selfNodeId;
        _time = time ?? TimeProvider.System;
        MinPowBits = minPowBits;
    }

    public string SelfNodeId { get; }
    public int MinPowBits { get; }
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
        if (advert.NodeId == SelfNodeId)
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
        if (_peers.TryGetValue(advert.NodeId, out var known) && advert.Seq <= known.Advert.Seq)
        {
            if (direct)
            {
                MarkSeen(known, now);
                Notify(advert.NodeId);
            }
            return null;
        }
        if (advert.Verify(MinPowBits) is { } why)
        {
            return why;
        }
        if (known is null && _peers.Count >= Capacity)
        {
            return "membership table full";
        }
        _peers.AddOrUpdate(advert.NodeId, _ => new PeerEntry(advert, direct ? now : signedAt), (_, e) =>
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
            return e;
        });
        Notify(advert.NodeId);
        return null;
    }

    private static void MarkSeen(PeerEntry e, DateTimeOffset now)
    {
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
            if (e.ConsecutiveFailures >= SuspectAfterFailures)
            {
                e.State = PeerState.Suspect;
            }
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
            }
        }
        return removed;
    }

    /// <summary>Live peers (not expired), suspects included.</summary>
    public IReadOnlyList<PeerEntry> Live()
    {
        var now = _time.GetUtcNow();
        return _peers.Values.Where(e => now - e.LastSeen <= Ttl).OrderBy(e => e.NodeId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Fresh adverts to gossip on (at most <paramref name="max"/>, most recently signed first).</summary>
    public IReadOnlyList<AdvertMessage> FreshAdverts(int max) =>
        Live().Where(e => e.State == PeerState.Alive).Select(e => e.Advert).OrderByDescending(a => a.TimestampMs).Take(max).ToList();

    public PeerEntry? Find(string nodeId) => _peers.TryGetValue(nodeId, out var e) ? e : null;
}
