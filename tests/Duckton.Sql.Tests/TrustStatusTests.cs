using Duckton.Core.Trust;
using Duckton.DuckDB;
using Duckton.Node;
using Duckton.Transport;

namespace Duckton.Sql.Tests;

/// <summary>p2p_status trust rows, p2p_vouch and p2p_vouches on a fresh node with its own config directory.</summary>
[Collection(SqlCollection.Name)]
public sealed class TrustStatusTests : IDisposable
{
    private readonly IsolatedNode _node;

    public TrustStatusTests(SqlFixture fixture)
    {
        _ = fixture; // loads libduckdb
        _node = new IsolatedNode("duckton-trust-status-");
    }

    public void Dispose()
    {
        _node.Dispose();
    }

    private List<string?[]> Rows(string sql)
    {
        using var c = _node.Connect();
        var r = c.QueryAll(sql);
        var rows = new List<string?[]>();
        foreach (var b in r.Batches)
        {
            for (var i = 0; i < b.RowCount; i++)
            {
                rows.Add([.. b.Columns.Select(col => col.IsValid(i) ? System.Text.Encoding.UTF8.GetString(col.GetBytes(i)) : null)]);
            }
        }
        return rows;
    }

    private Dictionary<string, string?> Trust() =>
        Rows("SELECT key, value FROM p2p_status() WHERE \"group\" = 'trust'").ToDictionary(r => r[0]!, r => r[1]);

    [Fact]
    public void Status_says_local_results_stream_where_libduckdb_is_loaded_directly()
    {
        // The CLI's and the library's path (libduckdb.so loaded by the process itself); the extension in the Node client
        // is covered by NodeClientTests.
        var status = Rows("SELECT key, value FROM p2p_status() WHERE \"group\" = 'status'").ToDictionary(r => r[0]!, r => r[1]);
        Assert.Equal("streamed", status["local_results"]);
    }

    [Fact]
    public void Status_reports_trust_counts_vouches_and_the_attestation_verifier()
    {
        var t = Trust();
        foreach (var key in new[] { "hosts_trusted", "hosts_vetted", "hosts_unvetted", "hosts_failed", "hosts_blocked", "receipts_stored",
            "receipts_gossip_accepted", "receipts_gossip_replayed", "receipts_gossip_rejected", "vouches_stored", "vouches_gossip_accepted" })
        {
            Assert.Equal("0", t[key]);
        }
        Assert.Equal("0.7", t["min_trust"]);
        Assert.StartsWith("no", t["attestation_verifier"]);

        using var other = NodeIdentity.Create();
        var vouch = Rows($"SELECT key, value FROM p2p_vouch('{other.NodeId}', weight => 0.5)").ToDictionary(r => r[0]!, r => r[1]);
        Assert.Equal("vouched", vouch["status"]);
        Assert.Equal(other.NodeId, vouch["vouchee_id"]);
        Assert.Equal("0.5", vouch["weight"]);
        var listed = Assert.Single(Rows("SELECT voucher_id, vouchee_id, weight::VARCHAR, signed::VARCHAR FROM p2p_vouches()"));
        Assert.Equal(new[] { _node.Host.Node.Identity.NodeId, other.NodeId, "0.5", "true" }, listed.Select(x => x!).ToArray());
        Assert.Equal("1", Trust()["vouches_stored"]);

        // Attestation from configuration, rebuilt when it changes; the SIMULATED demo authority is called out.
        var demo = Convert.ToHexStringLower(SimulatedAttestationAuthority.Demo.PublicKey);
        Rows($"SELECT * FROM p2p_set('trust.attestation_authorities', '[\"{demo}\"]')");
        Rows($"SELECT * FROM p2p_set('trust.allowed_measurements', '[\"L2:{SimulatedAttestationAuthority.SimulatedMeasurement}\"]')");
        var verifier = Trust()["attestation_verifier"];
        Assert.StartsWith("yes (1 authority, 1 allowlisted measurement)", verifier);
        Assert.Contains("SIMULATED", verifier);
        Assert.NotNull(_node.Host.Node.Trust.Verifier);
        Rows("SELECT * FROM p2p_set('trust.attestation_authorities', '[]')");
        Assert.StartsWith("no", Trust()["attestation_verifier"]);
        Assert.Null(_node.Host.Node.Trust.Verifier);
    }

    [Fact]
    public void Status_counts_canaries_run_and_failed_and_drift_partitions_from_the_trust_store()
    {
        var t = Trust();
        foreach (var key in new[] { "canaries_run", "canaries_failed", "drift_partitions", "drift_queries" })
        {
            Assert.Equal("0", t[key]);
        }
        var store = _node.Host.Trust;
        using var host = NodeIdentity.Create();
        store.RecordCanary("canary-1", host.NodeId, Verdict.Correct);
        store.RecordCanary("canary-2", host.NodeId, Verdict.Incorrect);
        store.RecordCanary("canary-3", host.NodeId, Verdict.Timeout);
        store.RecordCanary("canary-3", host.NodeId, Verdict.Timeout); // the same probe is one run
        store.RecordDrift("job-a", 2);
        store.RecordDrift("job-a", 1); // a re-dispatched attempt of the same job adds to it
        store.RecordDrift("job-b", 1);
        store.RecordDrift("job-c", 0); // no drift: nothing recorded
        t = Trust();
        Assert.Equal("3", t["canaries_run"]);
        Assert.Equal("2", t["canaries_failed"]);
        Assert.Equal("4", t["drift_partitions"]);
        Assert.Equal("2", t["drift_queries"]);
        Assert.Equal(3, store.Verification("job-a").DriftedOfJob);
        Assert.Equal(0, store.Verification("job-c").DriftedOfJob);
        // Each probe is recorded once (a fresh job id per probe); a repeat within one flush is dropped.
        store.RecordCanary("canary-4", host.NodeId, Verdict.Correct);
        store.RecordCanary("canary-4", host.NodeId, Verdict.Correct);
        var counts = store.Verification();
        Assert.Equal(4, counts.CanariesRun);
        Assert.Equal(2, counts.CanariesFailed);
    }

    [Theory]
    [InlineData("p2p_vouch('b3:abc')", "not a node id")]
    [InlineData("p2p_vouch('b3:0000000000000000000000000000000000000000000000000000000000000000', weight => 1.5)", "out of range")]
    [InlineData("p2p_vouch('')", "give the node id")]
    public void Bad_vouch_calls_are_clear_errors(string call, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => Rows($"SELECT * FROM {call}"));
        Assert.Contains(message, e.Message);
        Assert.Equal("0", Trust()["vouches_stored"]);
    }

    [Fact]
    public void Joining_a_seed_that_does_not_answer_says_so_instead_of_joined()
    {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        var join = Rows("SELECT key, value FROM p2p_join(bootstrap => ['127.0.0.1:1'])").ToDictionary(r => r[0]!, r => r[1]);
        Assert.Equal("0", join["peers"]);
        Assert.StartsWith("no seed answered yet", join["status"]);
    }

    [Fact]
    public void A_node_cannot_vouch_for_itself()
    {
        var e = Assert.ThrowsAny<Exception>(() => Rows($"SELECT * FROM p2p_vouch('{_node.Host.Node.Identity.NodeId}')"));
        Assert.Contains("cannot vouch for itself", e.Message);
    }
}
