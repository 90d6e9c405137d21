using System.Text;
using Duckton.Core.Data;
using Duckton.DuckDB;

namespace Duckton.Sql.Tests;

[Collection(SqlCollection.Name)]
public class ZeroConfigTests(SqlFixture db)
{
    private static Dictionary<string, string?> Rows(ResultSet r, int keyCol, int valueCol)
    {
        var d = new Dictionary<string, string?>();
        foreach (var b in r.Batches)
        {
            for (var i = 0; i < b.RowCount; i++)
            {
                var k = Encoding.UTF8.GetString(b.Columns[keyCol].GetBytes(i));
                d[k] = b.Columns[valueCol].IsValid(i) ? Encoding.UTF8.GetString(b.Columns[valueCol].GetBytes(i)) : null;
            }
        }
        return d;
    }

    [Fact]
    public void Answer_keeps_its_name_and_INTEGER_type()
    {
        var r = db.Query("SELECT * FROM p2p_query('SELECT 42 AS answer')");
        Assert.Equal(["answer"], r.Schema.Names);
        Assert.Equal(DuckType.Integer, r.Schema.Types[0]);
        Assert.Equal(1, r.RowCount);
        Assert.Equal(42, BitConverter.ToInt32(r.Batches[0].Columns[0].GetFixed(0)));
        Assert.Equal("INTEGER", db.Scalar("SELECT typeof(answer) FROM p2p_query('SELECT 42 AS answer')"));
    }

    [Fact]
    public void Info_lists_the_protocol()
    {
        var info = Rows(db.Query("SELECT * FROM p2p_info()"), 0, 1);
        Assert.Equal("duckdb-p2p", info["protocol_name"]);
        Assert.Equal("1.1.0", info["protocol_version"]);
        Assert.Equal("1.0.0", info["min_supported_version"]);
        Assert.Equal("1", info["schema_version"]);
        Assert.Equal("duckdb-p2p/1", info["alpn"]);
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", info["extension_version"]); // the build's one version (MinVer: a pre-release between tags)
    }

    [Fact]
    public void Meta_reports_a_verified_local_run()
    {
        var meta = Rows(db.Query("SELECT * FROM p2p_query_meta('SELECT * FROM range(3)')"), 1, 2);
        Assert.Equal("true", meta["executed_locally"]);
        Assert.Equal("true", meta["verified"]);
        Assert.Equal("3", meta["result_rows"]);
        Assert.Matches("^[0-9a-f]{32}$", meta["job_id"]);
        foreach (var key in new[] { "agreement", "quorum", "winner", "participants", "receipts", "agreed_hash", "latency_ms", "observed_result_bytes" })
        {
            Assert.True(meta.ContainsKey(key), key);
        }
        Assert.False(meta.ContainsKey("error"));
        Assert.Matches("^[0-9a-f]{64}$", meta["agreed_hash"]);
    }

    [Fact]
    public void The_agreed_hash_ignores_row_order_and_sees_any_changed_value()
    {
        string Hash(string sql) => Rows(db.Query($"SELECT * FROM p2p_query_meta('{sql.Replace("'", "''", StringComparison.Ordinal)}')"), 1, 2)["agreed_hash"]!;
        var asc = Hash("SELECT i, 'v' || i AS s FROM range(5000) t(i) ORDER BY i");
        Assert.Equal(asc, Hash("SELECT i, 'v' || i AS s FROM range(5000) t(i) ORDER BY i DESC"));
        Assert.Equal(asc, Hash("SELECT i, 'v' || i AS s FROM range(5000) t(i) ORDER BY hash(i)"));
        Assert.NotEqual(asc, Hash("SELECT i, CASE WHEN i = 4321 THEN 'x' ELSE 'v' || i END AS s FROM range(5000) t(i)"));
        Assert.NotEqual(asc, Hash("SELECT i::INTEGER AS i, 'v' || i AS s FROM range(5000) t(i)"));
    }

    [Fact]
    public void Query_failure_is_a_SQL_error_with_DuckDBs_message()
    {
        var e = Assert.Throws<DuckDBException>(() => db.Query("SELECT * FROM p2p_query('SELECT * FROM no_such_table')"));
        Assert.Contains("no_such_table", e.Message);
        Assert.Contains("(catalog error)", e.Message);
    }

    [Fact]
    public void Meta_reports_a_failure_in_an_error_row()
    {
        var meta = Rows(db.Query("SELECT * FROM p2p_query_meta('SELEC 1')"), 1, 2);
        Assert.Equal("false", meta["verified"]);
        Assert.Contains("syntax error", meta["error"]);
    }

    [Fact]
    public void Empty_results_keep_their_schema()
    {
        var r = db.Query("SELECT * FROM p2p_query('SELECT 1::BIGINT AS a, ''x'' AS b WHERE false')");
        Assert.Equal(0, r.RowCount);
        Assert.Equal(["a", "b"], r.Schema.Names);
        Assert.Equal(DuckType.BigInt, r.Schema.Types[0]);
    }

    [Fact]
    public void A_statement_returns_what_DuckDB_returns_for_it()
    {
        // DDL runs in the job's own throw-away database; DuckDB answers it with a Count column.
        var r = db.Query("SELECT * FROM p2p_query('CREATE TABLE t(x INTEGER)')");
        Assert.Equal(["Count"], r.Schema.Names);
        Assert.Equal("0", db.Scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 't'"));
    }

    [Theory]
    [InlineData("prefer => 'sideways'", "prefer")]
    [InlineData("verify => 'maybe'", "verify")]
    [InlineData("data_class => 'secret'", "data_class")]
    [InlineData("quorum => 5, replicas => 3", "quorum")]
    [InlineData("min_trust => 1.5", "min_trust")]
    public void Bad_overrides_are_errors_that_name_the_parameter(string args, string name)
    {
        var e = Assert.Throws<DuckDBException>(() => db.Query($"SELECT * FROM p2p_query('SELECT 1', {args})"));
        Assert.Contains(name, e.Message);
    }
}
