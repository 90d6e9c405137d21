using System.Globalization;
using Duckton.Core.Crypto;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.Node.Grid;
using Duckton.Node.Trust;

namespace Duckton.Sql.Tests;

/// <summary>
/// p2p_trust_terms(): every term of effective trust per known host, as the trust engine computed it — the same numbers
/// p2p_peers() shows, and the formula recomputed from the terms in SQL gives the engine's result.
/// </summary>
[Collection(SqlCollection.Name)]
public sealed class TrustTermsTests : IDisposable
{
    private readonly IsolatedNode _node;
    private readonly string _good = NodeIds.FromPublicKey(Ed25519Key.Generate().PublicKey);
    private readonly string _bad = NodeIds.FromPublicKey(Ed25519Key.Generate().PublicKey);

    public TrustTermsTests(SqlFixture fixture)
    {
        _ = fixture; // loads libduckdb
        _node = new IsolatedNode("duckton-trust-terms-");
    }

    public void Dispose() => _node.Dispose();

    private List<string> Rows(string sql)
    {
        using var c = _node.Connect();
        var r = c.QueryAll($"SELECT COLUMNS(*)::VARCHAR FROM ({sql})");
        var rows = new List<string>();
        foreach (var b in r.Batches)
        {
            for (var i = 0; i < b.RowCount; i++)
            {
                rows.Add(string.Join('|', b.Columns.Select(col => col.IsValid(i) ? System.Text.Encoding.UTF8.GetString(col.GetBytes(i)) : "")));
            }
        }
        return rows;
    }

    private void Seed()
    {
        var seen = DateTimeOffset.UtcNow;
        foreach (var id in new[] { _good, _bad })
        {
            _node.Host.Trust.NotePeer(new KnownPeer(id, "127.0.0.1:1", 0, 1 << 30, 2, 2, "", true, seen, seen, null));
        }
        var engine = _node.Host.Node.Trust;
        for (var i = 0; i < 30; i++)
        {
            engine.Issue($"job-{i}", "q", [new HostVerdict(_good, Verdict.Correct, "r", 1, 5, 10, null)]);
            engine.Issue($"job-{i}", "q", [new HostVerdict(_bad, i % 3 == 0 ? Verdict.Incorrect : Verdict.Correct, i % 3 == 0 ? "x" : "r", 1, 5, 10, null)]);
        }
        _node.Host.Trust.Flush();
    }

    [Fact]
    public void Each_term_is_typed_and_the_formula_recomputed_from_the_terms_gives_the_engines_effective_trust()
    {
        Seed();
        var types = Rows("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM p2p_trust_terms())").ToDictionary(r => r.Split('|')[0], r => r.Split('|')[1]);
        foreach (var col in new[] { "reputation", "age_factor", "voucher", "stake_factor", "penalty", "soft_score", "exploration_bonus", "effective_trust", "alpha" })
        {
            Assert.Equal("DOUBLE", types[col]);
        }
        Assert.Equal("BIGINT", types["observations"]);
        Assert.Equal("BOOLEAN", types["attestation_gate"]);

        // α·R + β·age + γ·voucher + δ·stake − penalty, clamped, gated, plus exploration: the documented formula, in SQL.
        var recomputed = Rows("""
            SELECT node_id, name, observations,
                   abs(effective_trust - CASE WHEN attestation_gate THEN least(1, greatest(0,
                       least(1, greatest(0, alpha * reputation + beta * age_factor + gamma * voucher + delta * stake_factor - penalty)) + exploration_bonus)) ELSE 0 END) < 1e-12,
                   abs(soft_score - least(1, greatest(0, alpha * reputation + beta * age_factor + gamma * voucher + delta * stake_factor - penalty))) < 1e-12
            FROM p2p_trust_terms() ORDER BY node_id
            """);
        var expected = new[] { _good, _bad }.Order(StringComparer.Ordinal)
            .Select(id => $"{id}|{PeerNames.Of(id)}|30|true|true").ToList();
        Assert.Equal(expected, recomputed);
        // The 0.7/0.1/0.1/0.1 defaults are the weights in force.
        Assert.Equal(["0.7|0.1|0.1|0.1"], Rows("SELECT DISTINCT alpha, beta, gamma, delta FROM p2p_trust_terms()"));
        // Wrong answers: a penalty, flagged, and lower trust than the always-correct host.
        Assert.Equal(["true"], Rows($"SELECT penalty > 0 AND flagged FROM p2p_trust_terms() WHERE node_id = '{_bad}'"));
        Assert.Equal(["false"], Rows($"SELECT flagged FROM p2p_trust_terms() WHERE node_id = '{_good}'"));
        Assert.Equal(["true"], Rows($"SELECT (SELECT effective_trust FROM p2p_trust_terms() WHERE node_id = '{_good}') > (SELECT effective_trust FROM p2p_trust_terms() WHERE node_id = '{_bad}')"));
    }

    [Fact]
    public void Trust_terms_and_peers_agree_with_the_engine_row_for_row()
    {
        Seed();
        var viaTerms = Rows("SELECT node_id, effective_trust, reputation, observations, voucher, stake_factor, penalty, flagged FROM p2p_trust_terms() ORDER BY node_id");
        var viaPeers = Rows("SELECT node_id, trust, reputation, observations, voucher, stake, penalties, flagged FROM p2p_peers() ORDER BY node_id");
        Assert.Equal(2, viaTerms.Count);
        Assert.Equal(viaPeers, viaTerms);
        // The engine's own answer for one host, printed as DuckDB prints a DOUBLE.
        var c = _node.Host.Config.Effective().Config;
        var direct = _node.Host.Node.Trust.Evaluate(_good, c).Effective;
        var sql = double.Parse(Rows($"SELECT effective_trust FROM p2p_trust_terms() WHERE node_id = '{_good}'")[0], CultureInfo.InvariantCulture);
        Assert.Equal(direct, sql, 12);
        Assert.InRange(direct, 0.5, 1);
    }
}
