using System.Text;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.DuckDB.Functions;
using Duckton.Node.Grid;
using Duckton.Node.Trust;

namespace Duckton.Sql;

/// <summary>
/// <c>p2p_peers()</c>: every host this node knows — the live ones from verified adverts and every host any process
/// sharing this config directory has seen before (persisted in the trust store) — with this node's view of each:
/// effective trust and its terms from the stored receipts, vouches and penalties, flags, vetting, the advertised
/// capacity, and its state. Typed columns: trust compares as a number, <c>last_seen</c> as a time.
/// </summary>
internal sealed class PeersFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_peers";

    private sealed record Row(
        string NodeId, string Addr, string State, bool Live, double Trust, double Reputation, long Observations, double Voucher, double Stake, double Penalties,
        bool Flagged, string? FlagReason, bool? Vetted, string? Standing, string Attestation, string AttestationClaimed, ulong FreeMemoryBytes, long FreeThreads,
        long MaxJobs, bool Enabled, string Region, IReadOnlyList<string> Networks, IReadOnlyList<string> Groups, double? RttMs, DateTimeOffset FirstSeen,
        DateTimeOffset LastSeen);

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var c = host.Config.Effective().Config;
        var node = host.Node;
        var engine = node.Trust;
        var store = host.Trust;
        // What this shows must survive a SIGKILL and include other processes' sightings: one session flushes and merges.
        var known = store.KnownPeers();
        var live = (node.GridIfStarted?.Membership.Live() ?? []).ToDictionary(p => p.NodeId, StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow;
        var ttl = c.Discovery.Gossip.CapabilityTtl;
        var rows = new List<Row>();
        var ids = known.Select(k => k.NodeId).Concat(live.Keys).Where(id => id != node.NodeId).Distinct(StringComparer.Ordinal);
        var byId = known.ToDictionary(k => k.NodeId, StringComparer.Ordinal);
        foreach (var id in ids)
        {
            live.TryGetValue(id, out var peer);
            byId.TryGetValue(id, out var stored);
            var blocked = store.IsBlocked(id);
            TrustBreakdown trust;
            int observations;
            string? standing = null;
            string attestation;
            if (peer is not null)
            {
                var assessment = engine.Assess(peer, c, Duckton.Node.QueryOverrides.None);
                trust = assessment.Trust;
                observations = assessment.Observations;
                standing = assessment.Standing.ToString().ToLowerInvariant();
                attestation = assessment.Attestation + (assessment.AttestationNote is { } note ? $" ({note})" : "");
            }
            else
            {
                // Not heard from in this process: attestation evidence is only checked live, so what counts is L0.
                trust = engine.Evaluate(id, c);
                observations = store.ObservationCount(id, node.NodeId);
                attestation = "L0";
            }
            var claimed = peer?.Advert.Attestation ?? stored?.Attestation ?? 0;
            var lastSeen = Max(peer?.LastSeen, stored?.LastSeen) ?? now;
            var flagReason = engine.FlagReason(id);
            var state = blocked ? "blocked"
                : peer is { State: PeerState.Suspect } ? "unreachable"
                : now - lastSeen <= ttl ? "live"
                : "stale";
            rows.Add(new Row(id, peer?.Address ?? stored!.Address, state, state == "live", trust.Effective, trust.Reputation, observations, trust.Voucher, trust.Stake,
                trust.Penalties, flagReason is not null || trust.Penalties > 0, flagReason, engine.VettingOutcome(id), standing, attestation,
                "L" + Math.Min(claimed, (byte)2), peer?.Advert.FreeMemoryBytes ?? stored!.FreeMemoryBytes, peer?.Advert.FreeThreads ?? stored!.FreeThreads,
                peer?.Advert.MaxJobs ?? stored!.MaxJobs, peer?.Advert.Enabled ?? stored!.Enabled, peer?.Advert.Region ?? stored!.Region,
                peer?.Advert.Networks ?? stored!.Networks, peer?.Advert.Groups ?? stored!.Groups, peer?.RttMs ?? stored?.RttMs,
                stored?.FirstSeen ?? peer!.LastSeen, lastSeen));
        }
        rows.Sort((x, y) => string.CompareOrdinal(x.NodeId, y.NodeId));
        return Typed.Build(rows,
        [
            Typed.Text("node_id", r => r.NodeId),
            Typed.Text("name", r => PeerNames.Of(r.NodeId)),
            Typed.Text("addr", r => r.Addr),
            Typed.Text("state", r => r.State),
            Typed.Bool("live", r => r.Live),
            Typed.Double("trust", r => r.Trust),
            Typed.Double("reputation", r => r.Reputation),
            Typed.BigInt("observations", r => r.Observations),
            Typed.Double("voucher", r => r.Voucher),
            Typed.Double("stake", r => r.Stake),
            Typed.Double("penalties", r => r.Penalties),
            Typed.Bool("flagged", r => r.Flagged),
            Typed.Text("flag_reason", r => r.FlagReason),
            Typed.Bool("vetted", r => r.Vetted),
            Typed.Text("standing", r => r.Standing),
            Typed.Text("attestation", r => r.Attestation),
            Typed.Text("attestation_claimed", r => r.AttestationClaimed),
            Typed.UBigInt("free_memory_bytes", r => r.FreeMemoryBytes),
            Typed.BigInt("free_threads", r => r.FreeThreads),
            Typed.BigInt("max_jobs", r => r.MaxJobs),
            Typed.Bool("enabled", r => r.Enabled),
            Typed.Text("region", r => r.Region),
            Typed.TextList("networks", r => r.Networks),
            Typed.TextList("groups", r => r.Groups),
            Typed.Double("rtt_ms", r => r.RttMs),
            Typed.Time("first_seen", r => r.FirstSeen),
            Typed.Time("last_seen", r => r.LastSeen),
        ]);
    }

    private static DateTimeOffset? Max(DateTimeOffset? x, DateTimeOffset? y) => x is null ? y : y is null ? x : x > y ? x : y;

    /// <summary>A typed result from rows and one accessor per column (local to this function: other admin tables build their own).</summary>
    private static class Typed
    {
        public sealed record Column(string Name, DuckType Type, Func<IReadOnlyList<Row>, ColumnVector> Build);

        public static Column Text(string name, Func<Row, string?> f) => new(name, DuckType.Varchar, rows => ColumnVectors.Varchar([.. rows.Select(f)]));

        public static Column Double(string name, Func<Row, double?> f) => new(name, DuckType.Double, rows => ColumnVectors.Fixed(DuckType.Double, rows.Select(f).ToList()));

        public static Column BigInt(string name, Func<Row, long?> f) => new(name, DuckType.BigInt, rows => ColumnVectors.Fixed(DuckType.BigInt, rows.Select(f).ToList()));

        public static Column UBigInt(string name, Func<Row, ulong?> f) =>
            new(name, DuckType.Of(DuckTypeId.UBigInt), rows => ColumnVectors.Fixed(DuckType.Of(DuckTypeId.UBigInt), rows.Select(f).ToList()));

        public static Column Bool(string name, Func<Row, bool?> f) =>
            new(name, DuckType.Boolean, rows => ColumnVectors.Fixed(DuckType.Boolean, rows.Select(r => f(r) is { } b ? (byte?)(b ? 1 : 0) : null).ToList()));

        /// <summary>TIMESTAMP WITH TIME ZONE: microseconds since the Unix epoch.</summary>
        public static Column Time(string name, Func<Row, DateTimeOffset?> f) =>
            new(name, DuckType.Of(DuckTypeId.TimestampTz), rows => ColumnVectors.Fixed(DuckType.Of(DuckTypeId.TimestampTz),
                rows.Select(r => f(r) is { } t ? (long?)((t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10) : null).ToList()));

        public static Column TextList(string name, Func<Row, IReadOnlyList<string>> f) => new(name, DuckType.List(DuckType.Varchar), rows =>
        {
            var lists = rows.Select(f).ToList();
            var child = ColumnVectors.ByteStrings(DuckType.Varchar, lists.SelectMany(l => l).Select(s => (byte[]?)Encoding.UTF8.GetBytes(s)).ToList());
            return ColumnVectors.List(DuckType.List(DuckType.Varchar), lists.Select(l => (int?)l.Count).ToList(), child);
        });

        public static ResultSet Build(IReadOnlyList<Row> rows, IReadOnlyList<Column> columns)
        {
            var schema = new ResultSchema(columns.Select(c => c.Name).ToList(), columns.Select(c => c.Type).ToList());
            if (rows.Count == 0)
            {
                return new ResultSet(schema, []);
            }
            return new ResultSet(schema, [new ResultBatch(schema, [.. columns.Select(c => c.Build(rows))], rows.Count)]);
        }
    }
}
