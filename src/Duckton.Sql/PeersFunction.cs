using Duckton.Core.Data;
using Duckton.Core.Protocol;
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
            .Column("last_seen", TypedResult.TimestampTz)
            .Column("stake_ton", DuckType.Double)
            .Column("price_model", DuckType.Varchar)
            .Column("price_nanoton", TypedResult.UBigInt)
            .Column("verified_groups", TypedResult.VarcharList)
            .Column("region_verified", DuckType.Boolean);
        foreach (var v in TrustView.Peers(node, host.Trust, c))
        {
            var peer = v.Live;
            var stored = v.Stored;
            var trust = v.Trust;
            var attestation = v.Attestation + (v.AttestationNote is { } note ? $" ({note})" : "");
            var claimed = peer?.Advert.Attestation ?? stored?.Attestation ?? 0;
            var lastSeen = Max(peer?.LastSeen, stored?.LastSeen) ?? now;
            var state = PeerStates.Of(v, now, ttl);
            table.Row(v.NodeId, v.Name, peer?.Address ?? stored!.Address, state, state == "live", trust.Effective, trust.Reputation, (long)v.Observations,
                trust.Voucher, trust.Stake, trust.Penalties, v.Flagged, v.FlagReason, v.Vetted, v.Standing?.ToString().ToLowerInvariant(),
                attestation, "L" + Math.Min(claimed, (byte)2), peer?.Advert.FreeMemoryBytes ?? stored!.FreeMemoryBytes,
                (long)(peer?.Advert.FreeThreads ?? stored!.FreeThreads), (long)(peer?.Advert.MaxJobs ?? stored!.MaxJobs), peer?.Advert.Enabled ?? stored!.Enabled,
                peer?.Advert.Region ?? stored!.Region, peer?.Advert.Networks ?? stored!.Networks, peer?.Advert.Groups ?? stored!.Groups,
                peer?.RttMs ?? stored?.RttMs, stored?.FirstSeen ?? peer!.LastSeen, lastSeen, v.StakeTon,
                v.Quote is { } q ? (q.Model == WirePriceModel.Fixed ? "fixed" : "metered") : null, v.Quote?.UnitNanoton,
                // Memberships proven by a signed token from an issuer this node lists; the rest are self-declared.
                peer is null ? [] : Memberships.VerifiedGroups(peer.Advert, peer.NodeId, c.Membership, now),
                peer is not null && Memberships.RegionVerified(peer.Advert, peer.NodeId, c.Membership, now));
        }
        return table.Build();
    }

    private static DateTimeOffset? Max(DateTimeOffset? x, DateTimeOffset? y) => x is null ? y : y is null ? x : x > y ? x : y;
}

/// <summary>The <c>state</c> column of <c>p2p_peers()</c> (also shown by the dashboard).</summary>
public static class PeerStates
{
    /// <summary>blocked, dead (convicted by the failure detector), unreachable (live but failing), live (seen within the
    /// capability TTL) or stale.</summary>
    public static string Of(PeerTrustView v, DateTimeOffset now, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(v);
        var lastSeen = (v.Live?.LastSeen, v.Stored?.LastSeen) switch
        {
            (null, var s) => s,
            (var l, null) => l,
            (var l, var s) => l > s ? l : s,
        } ?? now;
        return v.Blocked ? "blocked"
            : v.Live is { State: PeerState.Dead } ? "dead"
            : v.Live is { State: PeerState.Suspect } ? "unreachable"
            : now - lastSeen <= ttl ? "live"
            : "stale";
    }
}

/// <summary>
/// <c>p2p_trust_terms()</c>: one row per known host with every term of its effective trust —
/// <c>effective = gate · clamp(α·R + β·age + γ·voucher + δ·stake − penalties) + exploration</c> — each term, its weight and
/// weighted contribution, as the trust engine computed them (the dashboard's worked example reads the same rows).
/// </summary>
internal sealed class TrustTermsFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_trust_terms";

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var c = host.Config.Effective().Config;
        var w = TrustEngine.PolicyFor(c).Weights;
        var table = new TypedResult()
            .Column("node_id", DuckType.Varchar)
            .Column("name", DuckType.Varchar)
            .Column("reputation", DuckType.Double)
            .Column("observations", DuckType.BigInt)
            .Column("age_factor", DuckType.Double)
            .Column("voucher", DuckType.Double)
            .Column("stake_factor", DuckType.Double)
            .Column("penalty", DuckType.Double)
            .Column("alpha", DuckType.Double)
            .Column("beta", DuckType.Double)
            .Column("gamma", DuckType.Double)
            .Column("delta", DuckType.Double)
            .Column("soft_score", DuckType.Double)
            .Column("exploration_bonus", DuckType.Double)
            .Column("attestation", DuckType.Varchar)
            .Column("attestation_gate", DuckType.Boolean)
            .Column("flagged", DuckType.Boolean)
            .Column("effective_trust", DuckType.Double)
            .Column("selection_score", DuckType.Double);
        foreach (var v in TrustView.Peers(host.Node, host.Trust, c))
        {
            var t = v.Trust;
            table.Row(v.NodeId, v.Name, t.Reputation, (long)v.Observations, t.Age, t.Voucher, t.Stake, t.Penalties, w.Alpha, w.Beta, w.Gamma, w.Delta,
                t.Soft, t.Exploration, v.Attestation.ToString(), t.Gate, v.Flagged, t.Effective, v.Selection);
        }
        return table.Build();
    }
}
