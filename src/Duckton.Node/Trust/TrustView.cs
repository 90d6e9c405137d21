using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.Node.Grid;

namespace Duckton.Node.Trust;

/// <summary>
/// One known host as this node sees it: identity, where it stands, and every term of its effective trust, exactly as
/// <see cref="TrustEngine"/> computed them (<c>p2p_peers()</c>, <c>p2p_trust_terms()</c> and the dashboard all read these).
/// </summary>
/// <param name="Live">The live membership entry (heard from in this process), or null.</param>
/// <param name="Stored">The persisted sighting (from any process sharing the configuration directory), or null.</param>
/// <param name="Standing">Where it stands for a query under the policy in force (null when not live: never assessed here).</param>
/// <param name="Selection">Its selection score (null when not live).</param>
public sealed record PeerTrustView(string NodeId, string Name, PeerEntry? Live, KnownPeer? Stored, TrustBreakdown Trust, int Observations, Standing? Standing,
    AttestationLevel Attestation, string? AttestationNote, double? Selection, string? FlagReason, bool? Vetted, bool Blocked)
{
    /// <summary>Flagged: caught hiding receipts, or penalised for a wrong answer.</summary>
    public bool Flagged => FlagReason is not null || Trust.Penalties > 0;

    /// <summary>Stake in whole TON read from the host's vault (0 with economics off; null = unknown: not read yet, or the read failed).</summary>
    public double? StakeTon { get; init; }

    /// <summary>The price the host last quoted this node (null: it never bid here).</summary>
    public PriceQuote? Quote { get; init; }
}

/// <summary>
/// The one place that turns a node's trust store and membership into per-host trust rows, so the SQL functions and the
/// dashboard can never disagree: the formulas stay in <see cref="EffectiveTrust"/> / <see cref="TrustEngine"/>.
/// </summary>
public static class TrustView
{
    /// <summary>Every known host but this node itself (persisted or live), ordered by node id.</summary>
    public static IReadOnlyList<PeerTrustView> Peers(GridNode node, TrustStore store, NodeConfig c)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(c);
        var engine = node.Trust;
        // What this shows must survive a SIGKILL and include other processes' sightings: one session flushes and merges.
        var known = store.KnownPeers();
        var live = (node.GridIfStarted?.Membership.Live() ?? []).ToDictionary(p => p.NodeId, StringComparer.Ordinal);
        var byId = known.ToDictionary(k => k.NodeId, StringComparer.Ordinal);
        var ids = known.Select(k => k.NodeId).Concat(live.Keys).Where(id => id != node.NodeId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        // Live hosts' stake is read (in parallel, bounded) before the rows are built, so a first call shows it.
        engine.Stakes.Warm(live.Values.Where(p => p.NodeId != node.NodeId).Select(p => (p.NodeId, (ReadOnlyMemory<byte>)p.Advert.PublicKey)), TrustEngine.StakeWarmBound);
        var rows = new List<PeerTrustView>();
        foreach (var id in ids)
        {
            live.TryGetValue(id, out var peer);
            byId.TryGetValue(id, out var stored);
            if (peer is not null)
            {
                var a = engine.Assess(peer, c, QueryOverrides.None);
                rows.Add(new PeerTrustView(id, PeerNames.Of(id), peer, stored, a.Trust, a.Observations, a.Standing, a.Attestation, a.AttestationNote, a.Selection,
                    engine.FlagReason(id), engine.VettingOutcome(id), store.IsBlocked(id)) { StakeTon = a.StakeTon, Quote = engine.LastQuote(id) });
            }
            else
            {
                // Not heard from in this process: attestation evidence is only checked live, so what counts is L0.
                rows.Add(new PeerTrustView(id, PeerNames.Of(id), null, stored, engine.Evaluate(id, c), store.ObservationCount(id, node.NodeId), null,
                    AttestationLevel.L0, null, null, engine.FlagReason(id), engine.VettingOutcome(id), store.IsBlocked(id)) { StakeTon = engine.Stakes.Peek(id).StakeTon, Quote = engine.LastQuote(id) });
            }
        }
        return rows;
    }
}
