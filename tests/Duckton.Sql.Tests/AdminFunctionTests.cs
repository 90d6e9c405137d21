using System.Text;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.DuckDB;

namespace Duckton.Sql.Tests;

/// <summary>The configuration admin surface through SQL; each test uses its own keys' values and restores them.</summary>
[Collection(SqlCollection.Name)]
public class AdminFunctionTests(SqlFixture db)
{
    private static List<string?[]> Rows(ResultSet r)
    {
        var rows = new List<string?[]>();
        foreach (var b in r.Batches)
        {
            for (var i = 0; i < b.RowCount; i++)
            {
                rows.Add(b.Columns.Select(c => c.IsValid(i) ? Encoding.UTF8.GetString(c.GetBytes(i)) : null).ToArray());
            }
        }
        return rows;
    }

    private string? Setting(string key) =>
        Rows(db.Query($"SELECT value, source FROM p2p_config() WHERE \"group\" || '.' || key = '{key}'")).Select(r => r[0] + "@" + r[1]).SingleOrDefault();

    [Fact]
    public void P2p_config_lists_keys_with_their_source_and_p2p_settings_is_the_same()
    {
        var config = db.Query("SELECT * FROM p2p_config()");
        Assert.Equal(["group", "key", "value", "source", "in_effect"], config.Schema.Names);
        // Keys of features still being built say so; every other key is read by the code it configures (KeyCoverageTests).
        Assert.Contains(Rows(config), r => r[0] == "scheduler" && r[1] == "replicas" && r[4] == "true");
        Assert.Equal(ConfigCatalog.NotYetInEffect.Count, Rows(config).Count(r => r[4] == "false"));
        Assert.True(config.RowCount > 100);
        Assert.Equal(config.RowCount, db.Query("SELECT * FROM p2p_settings()").RowCount);
        Assert.Contains(Rows(config), r => r[0] == "scheduler" && r[1] == "replicas" && r[3] == "default");
    }

    [Fact]
    public void Secrets_are_redacted()
    {
        using var issuer = Duckton.Core.Crypto.Ed25519Key.Generate();
        var token = Duckton.Core.Protocol.MembershipToken.Issue(issuer, Duckton.Core.Protocol.MembershipKind.Group, "b3:" + new string('a', 64), "g",
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1)).ToText();
        db.Query($"SELECT * FROM p2p_set('membership.group_token', '{token}')");
        try
        {
            var all = string.Join("\n", Rows(db.Query("SELECT * FROM p2p_config()")).Select(r => string.Join("|", r)));
            Assert.DoesNotContain(token, all);
            Assert.DoesNotContain(token[..20], all);
            Assert.Contains("<redacted>", Setting("membership.group_token"));
        }
        finally
        {
            db.Query("SELECT * FROM p2p_config_reset()");
        }
    }

    [Fact]
    public void Setters_change_the_runtime_layer_and_reset_drops_it()
    {
        try
        {
            var rows = Rows(db.Query("SELECT * FROM p2p_planner(prefer => 'LOCAL', local_execution => true)"));
            Assert.Contains(rows, r => r[0] == "planner" && r[1] == "prefer" && r[2] == "local");
            Assert.Equal("local@runtime", Setting("planner.prefer"));
            db.Query("SELECT * FROM p2p_trust(min_trust => 0.8, min_attestation => 'l1')");
            Assert.Equal("L1@runtime", Setting("trust.min_attestation"));
            db.Query("SELECT * FROM p2p_selection(replicas => 5, quorum => 4)");
            Assert.Equal("4@runtime", Setting("scheduler.quorum"));
            var reset = Rows(db.Query("SELECT * FROM p2p_config_reset()"));
            Assert.Equal("reset", reset[0][1]);
            Assert.EndsWith("@default", Setting("scheduler.quorum"));
        }
        finally
        {
            db.Query("SELECT * FROM p2p_config_reset()");
        }
    }

    [Theory]
    [InlineData("SELECT * FROM p2p_set('scheduler.quorum', '99')", "scheduler.quorum", "scheduler.replicas")]
    [InlineData("SELECT * FROM p2p_set('no.such.key', '1')", "no.such.key", "p2p_config")]
    [InlineData("SELECT * FROM p2p_set('scheduler.replicas', 'many')", "scheduler.replicas", "many")]
    [InlineData("SELECT * FROM p2p_planner(prefer => 'sideways')", "planner.prefer", "sideways")]
    [InlineData("SELECT * FROM p2p_trust(min_trust => 2.0)", "trust.min_trust", "2")]
    [InlineData("SELECT * FROM p2p_query('SELECT 1', quorum => 7)", "scheduler.quorum", "scheduler.replicas")]
    public void Invalid_changes_name_the_key_and_change_nothing(string sql, string key, string detail)
    {
        var runtimeFile = Path.Combine(db.ConfigDirectory, "runtime.toml");
        var before = File.Exists(runtimeFile) ? File.ReadAllText(runtimeFile) : null;
        var e = Assert.Throws<DuckDBException>(() => db.Query(sql));
        Assert.Contains(key, e.Message);
        Assert.Contains(detail, e.Message);
        Assert.Equal(before, File.Exists(runtimeFile) ? File.ReadAllText(runtimeFile) : null);
    }

    [Fact]
    public void Local_execution_can_be_switched_off_and_the_error_says_how_to_switch_it_on()
    {
        try
        {
            db.Query("SELECT * FROM p2p_planner(local_execution => false)");
            var e = Assert.Throws<DuckDBException>(() => db.Query("SELECT * FROM p2p_query('SELECT 1')"));
            Assert.Contains("p2p_planner(local_execution => true)", e.Message);
        }
        finally
        {
            db.Query("SELECT * FROM p2p_config_reset()");
        }
        Assert.Equal("1", db.Scalar("SELECT * FROM p2p_query('SELECT 1')"));
    }
}
