using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Node.Grid;

namespace Duckton.Node.Trust;

// The trust engine, part: ranking candidates, network diversity, shadow selection and shortfall messages.
public sealed partial class TrustEngine
{
    // ---------------------------------------------------------------- ranking

    /// <summary>
    /// Trusted hosts first, each by selection score. Vetted probationary hosts follow only while fewer than
    /// <c>scheduler.replicas</c> hosts are trusted (and <c>trust.probation_fills_quorum</c>): once enough hosts are
    /// trusted, newcomers are checked as shadow replicas (<see cref="Shadows"/>) instead of counted. Everyone else is dropped.
    /// </summary>
    public IReadOnlyList<PeerEntry> Rank(IReadOnlyList<PeerEntry> candidates, CandidateContext context)
    {
        var c = context.Config;
        Stakes.Warm(candidates.Select(p => (p.NodeId, (ReadOnlyMemory<byte>)p.Advert.PublicKey)), StakeWarmBound);
        var prices = PriceScores(candidates, c, context.Overrides);
        var assessed = candidates.Select(p => (p, a: Assess(p, c, context.Overrides, prices.GetValueOrDefault(p.NodeId, 1)), tie: Random.Shared.Next()))
            .Where(x => x.a.Standing is Standing.Trusted or Standing.Vetted).ToList();
        var trusted = assessed.Count(x => x.a.Standing == Standing.Trusted);
        if (trusted >= Math.Max(c.Scheduler.Replicas, c.Scheduler.Quorum) || !c.Trust.ProbationFillsQuorum)
        {
            assessed.RemoveAll(x => x.a.Standing != Standing.Trusted);
        }
        var ranked = assessed.OrderBy(x => x.a.Standing == Standing.Trusted ? 0 : 1).ThenByDescending(x => x.a.Selection).ThenBy(x => x.tie).Select(x => x.p).ToList();
        return Diversify(ranked, Math.Max(c.Scheduler.Replicas, c.Scheduler.Quorum), Related);
    }

    /// <summary>Longest a selection waits for the first stake readings of hosts it has none for.</summary>
    public static readonly TimeSpan StakeWarmBound = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The price term of a paid query: <c>1 − (p − pmin) / (pmax − pmin)</c> over the candidates' latest quotes, p being the
    /// quote's price for this job's time bound (all equal: 1). A host that never quoted here gets 0.5 (unknown). Free
    /// queries: every host 1 (price plays no part).
    /// </summary>
    private Dictionary<string, double> PriceScores(IReadOnlyList<PeerEntry> candidates, NodeConfig c, QueryOverrides overrides)
    {
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        if (!Economics.PaymentPolicy.IsPaid(c, overrides))
        {
            return scores;
        }
        var timeoutMs = (uint)Math.Min(uint.MaxValue, c.Scheduler.DispatchTimeout.TotalMilliseconds);
        var known = candidates.Select(p => (p.NodeId, Price: LastQuote(p.NodeId)?.JobCap(timeoutMs))).ToList();
        var prices = known.Where(k => k.Price is not null).Select(k => (double)k.Price!.Value).ToList();
        var (min, max) = prices.Count == 0 ? (0d, 0d) : (prices.Min(), prices.Max());
        foreach (var (id, price) in known)
        {
            scores[id] = price is not { } p ? 0.5 : max <= min ? 1 : 1 - ((p - min) / (max - min));
        }
        return scores;
    }

    /// <summary>Hosts first seen within this window of each other look like one operator's batch.</summary>
    public static readonly TimeSpan RelatedFirstSeenWindow = TimeSpan.FromMinutes(2);

    private (long At, IReadOnlyDictionary<string, DateTimeOffset> FirstSeen) _firstSeen = (0, new Dictionary<string, DateTimeOffset>());

    /// <summary>First sightings from the store, re-read at most every few seconds (selection runs per query).</summary>
    private IReadOnlyDictionary<string, DateTimeOffset> FirstSeen()
    {
        var cached = _firstSeen;
        var now = _time.GetTimestamp();
        if (cached.At != 0 && _time.GetElapsedTime(cached.At, now) < TimeSpan.FromSeconds(5))
        {
            return cached.FirstSeen;
        }
        IReadOnlyDictionary<string, DateTimeOffset> map;
        try
        {
            map = Store.KnownPeers().ToDictionary(p => p.NodeId, p => p.FirstSeen, StringComparer.Ordinal);
        }
        catch (Exception e)
        {
            // Diversity is a preference, not a gate: without first sightings only the address and vouch signals apply.
            _logger.AssessmentFailed("(first-seen times)", e);
            map = cached.FirstSeen;
        }
        _firstSeen = (now, map);
        return map;
    }

    /// <summary>
    /// Whether two hosts look like one operator: the same /24 (IPv4) or /64 (IPv6) address prefix, first seen within
    /// <see cref="RelatedFirstSeenWindow"/> of each other, or vouching for each other (either way).
    /// </summary>
    private bool Related(PeerEntry a, PeerEntry b)
    {
        if (SamePrefix(a.Address, b.Address))
        {
            return true;
        }
        var seen = FirstSeen();
        if (seen.TryGetValue(a.NodeId, out var fa) && seen.TryGetValue(b.NodeId, out var fb) && (fa - fb).Duration() <= RelatedFirstSeenWindow)
        {
            return true;
        }
        var store = Store;
        return store.VouchersOf(a.NodeId).Contains(b.NodeId, StringComparer.Ordinal) || store.VouchersOf(b.NodeId).Contains(a.NodeId, StringComparer.Ordinal);
    }

    /// <summary>True when both addresses are IP literals in the same /24 (IPv4) or /64 (IPv6) network.</summary>
    public static bool SamePrefix(string addressA, string addressB)
    {
        if (!TryPrefix(addressA, out var a) || !TryPrefix(addressB, out var b))
        {
            return false;
        }
        return a.AsSpan().SequenceEqual(b);

        static bool TryPrefix(string address, out byte[] prefix)
        {
            prefix = [];
            var host = address;
            if (host.StartsWith('['))
            {
                var end = host.IndexOf(']', StringComparison.Ordinal);
                host = end > 0 ? host[1..end] : host;
            }
            else if (host.Count(ch => ch == ':') == 1)
            {
                host = host[..host.IndexOf(':', StringComparison.Ordinal)];
            }
            if (!System.Net.IPAddress.TryParse(host, out var ip))
            {
                return false;
            }
            if (ip.IsIPv4MappedToIPv6)
            {
                ip = ip.MapToIPv4();
            }
            var bytes = ip.GetAddressBytes();
            prefix = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? bytes[..3] : bytes[..8];
            return true;
        }
    }

    /// <summary>
    /// Reorders <paramref name="ranked"/> so its first <paramref name="picks"/> hosts avoid related pairs when
    /// unrelated hosts are available: greedily, in rank order, each pick is the best-ranked host related to none
    /// already picked (or, if every remaining host is related, the one related to the fewest). The rest keep their order.
    /// </summary>
    public static IReadOnlyList<T> Diversify<T>(IReadOnlyList<T> ranked, int picks, Func<T, T, bool> related)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        ArgumentNullException.ThrowIfNull(related);
        var remaining = ranked.ToList();
        var chosen = new List<T>();
        while (chosen.Count < picks && remaining.Count > 0)
        {
            var best = 0;
            var bestRelated = int.MaxValue;
            for (var i = 0; i < remaining.Count && bestRelated > 0; i++)
            {
                var n = chosen.Count(c => related(c, remaining[i]));
                if (n < bestRelated)
                {
                    (best, bestRelated) = (i, n);
                }
            }
            chosen.Add(remaining[best]);
            remaining.RemoveAt(best);
        }
        chosen.AddRange(remaining);
        return chosen;
    }

    /// <summary>
    /// Up to <c>trust.shadow_replicas</c> newcomers (vetted or not yet vetted, never failed, blocked or below a floor),
    /// least observed first: they run the query beside the quorum and are judged against its verified answer.
    /// </summary>
    public IReadOnlyList<PeerEntry> Shadows(IReadOnlyList<PeerEntry> candidates, CandidateContext context)
    {
        var n = context.Config.Trust.ShadowReplicas;
        if (n <= 0 || candidates.Count == 0)
        {
            return [];
        }
        // A shadow never counts and never serves rows, so an explicit min_trust floor does not keep newcomers from
        // shadowing (that is how they earn trust); only the data-class rule does.
        var overrides = context.Overrides with { MinTrustSource = ConfigSource.Default };
        return candidates.Select(p => (p, a: Assess(p, context.Config, overrides), tie: Random.Shared.Next()))
            .Where(x => x.a.Standing is Standing.Vetted or Standing.Unvetted)
            .OrderBy(x => x.a.Observations).ThenBy(x => x.tie).Take(n).Select(x => x.p).ToList();
    }

    /// <summary>
    /// Why fewer than <paramref name="needed"/> candidates can be selected, when the cause is too little stake, evidence
    /// of wrong answers, newcomers not vetted yet or an explicit min_trust (for the last: the floor, where it was set and
    /// the best trust available), and how to proceed. Null otherwise.
    /// </summary>
    public string? Shortfall(IReadOnlyList<PeerEntry> candidates, CandidateContext context, int needed)
    {
        var c = context.Config;
        var o = context.Overrides;
        var all = candidates.Select(p => Assess(p, c, o)).ToList();
        var selectable = all.Count(a => a.Standing is Standing.Trusted or Standing.Vetted);
        if (Economics.PaymentPolicy.RequiredStakeTon(c) is > 0 and var required)
        {
            var below = all.Where(a => a.Standing == Standing.BelowStake).ToList();
            var usable = candidates.Count - below.Count;
            if (below.Count > 0 && usable < needed)
            {
                return string.Create(CultureInfo.InvariantCulture, $"not enough staked hosts: {below.Count} of {candidates.Count} host(s) have less stake than required ")
                    + (c.Scheduler.RequireStakedHosts ? "(require_staked_hosts" : "(")
                    + (c.Sybil.MinStake > 0 ? string.Create(CultureInfo.InvariantCulture, $"{(c.Scheduler.RequireStakedHosts ? ", " : "")}sybil.min_stake {c.Sybil.MinStake} TON") : "")
                    + $"): {string.Join(", ", below.Take(4).Select(a => $"{a.NodeId[..Math.Min(12, a.NodeId.Length)]} {(a.StakeTon is { } t ? t.ToString("0.###", CultureInfo.InvariantCulture) + " TON" : "unknown")}"))}"
                    + $"; need quorum {needed} (stake source: {Stakes.Source.Description}); see stake_ton in p2p_peers()";
            }
        }
        var proven = candidates.Count(p => _evidence.ContainsKey(p.NodeId));
        if (proven > 0)
        {
            if (selectable < needed)
            {
                return $"not enough hosts: {selectable} of {candidates.Count} can be selected, need quorum {needed}; {proven} host(s) are excluded by evidence of wrong answers "
                    + "(their own signed commits; see flag_reason in p2p_peers()) whatever min_trust says; add hosts, lower quorum => or run it here with prefer => 'local'";
            }
        }
        var unvetted = all.Count(a => a.Standing == Standing.Unvetted);
        if (unvetted > 0 && selectable < needed)
        {
            // Their canaries go on in the background (a host under load may answer after the first query gave up on it).
            return string.Create(CultureInfo.InvariantCulture,
                $"not enough hosts yet: {selectable} of {candidates.Count} can be selected, need quorum {needed}; {unvetted} newcomer(s) have not passed their canary ")
                + string.Create(CultureInfo.InvariantCulture, $"(the known-answer query a newcomer answers before it gets work) within {CanaryTimeout.TotalSeconds:0} s; ")
                + "it goes on in the background: retry shortly, lower quorum => or run it here with prefer => 'local'";
        }
        if (o.MinTrustSource == ConfigSource.Default || candidates.Count == 0)
        {
            return null;
        }
        var assessed = all.Where(a => a.Standing is not (Standing.Blocked or Standing.Unassessable or Standing.BelowAttestation)).ToList();
        var meeting = assessed.Count(a => a.Standing == Standing.Trusted);
        if (meeting >= needed || assessed.Count == 0)
        {
            return null;
        }
        var floor = Floors(c, o).MinTrust;
        var best = assessed.MaxBy(a => a.Trust.Effective)!;
        var where = o.MinTrustSource == ConfigSource.Call ? "set per call" : o.MinTrustSource.ToConfigString();
        return string.Create(CultureInfo.InvariantCulture,
            $"min_trust {floor:0.###} ({where}) is a hard floor: {meeting} of {assessed.Count} host(s) meet it, need quorum {needed}; best available trust is {best.Trust.Effective:0.###} (host {best.NodeId[..Math.Min(12, best.NodeId.Length)]}); lower min_trust, run it here with prefer => 'local', or wait for hosts to earn trust (queries under the default policy earn newcomers receipts)");
    }

    /// <summary>Hosts that may run this query at all (not blocked, not below the attestation floor, not failed).</summary>
    public IReadOnlyList<PeerEntry> Usable(IReadOnlyList<PeerEntry> candidates, NodeConfig c, QueryOverrides overrides) =>
        candidates.Where(p => Assess(p, c, overrides).Standing is Standing.Trusted or Standing.Vetted or Standing.Unvetted).ToList();

    /// <summary>The known answer (canonical result hash) of <paramref name="sql"/>, computed in this node's own engine.</summary>
    public string KnownAnswer(string sql) => _knownAnswers.ExpectedHash(sql);
}
