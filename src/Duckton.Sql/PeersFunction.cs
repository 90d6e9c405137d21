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
        var table = new TypedResult()
            .Column("node_id", DuckType.Varchar)
            .Column("name", DuckType.Varchar)
            .Column("addr", DuckType.Varchar)
            .Column("state", DuckType.Varchar)
            .Column("live", DuckType.Boolean)
            .Column("trust", DuckType.Double)
            .Column("reputation", DuckType.Double)
            .Column("observations", DuckType.BigInt)
            .Column("voucher", DuckType.Double)
            .Column("stake", DuckType.Double)
            .Column("penalties", DuckType.Double)
            .Column("flagged", DuckType.Boolean)
            .Column("flag_reason", DuckType.Varchar)
            .Column("vetted", DuckType.Boolean)
            .Column("standing", DuckType.Varchar)
            .Column("attestation", DuckType.Varchar)
            .Column("attestation_claimed", DuckType.Varchar)
            .Column("free_memory_bytes", TypedResult.UBigInt)
            .Column("free_threads", DuckType.BigInt)
            .Column("max_jobs", DuckType.BigInt)
            .Column("enabled", DuckType.Boolean)
            .Column("region", DuckType.Varchar)
            .Column("networks", TypedResult.VarcharList)
            .Column("groups", TypedResult.VarcharList)
            .Column("rtt_ms", DuckType.Double)
            .Column("first_seen", TypedResult.TimestampTz)
            .Column("last_seen", TypedResult.TimestampTz);
        var ids = known.Select(k => k.NodeId).Concat(live.Keys).Where(id => id != node.NodeId).Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
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
                : peer is { State: PeerState.Dead } ? "dead"
                : peer is { State: PeerState.Suspect } ? "unreachable"
                : now - lastSeen <= ttl ? "live"
                : "stale";
            table.Row(id, PeerNames.Of(id), peer?.Address ?? stored!.Address, state, state == "live", trust.Effective, trust.Reputation, (long)observations,
                trust.Voucher, trust.Stake, trust.Penalties, flagReason is not null || trust.Penalties > 0, flagReason, engine.VettingOutcome(id), standing,
                attestation, "L" + Math.Min(claimed, (byte)2), peer?.Advert.FreeMemoryBytes ?? stored!.FreeMemoryBytes,
                (long)(peer?.Advert.FreeThreads ?? stored!.FreeThreads), (long)(peer?.Advert.MaxJobs ?? stored!.MaxJobs), peer?.Advert.Enabled ?? stored!.Enabled,
                peer?.Advert.Region ?? stored!.Region, peer?.Advert.Networks ?? stored!.Networks, peer?.Advert.Groups ?? stored!.Groups,
                peer?.RttMs ?? stored?.RttMs, stored?.FirstSeen ?? peer!.LastSeen, lastSeen);
        }
        return table.Build();
    }

    private static DateTimeOffset? Max(DateTimeOffset? x, DateTimeOffset? y) => x is null ? y : y is null ? x : x > y ? x : y;
}
