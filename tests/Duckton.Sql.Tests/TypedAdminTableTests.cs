using Duckton.Core.Crypto;
using Duckton.Core.Trust;
using Duckton.DuckDB;
using Duckton.Node.Trust;

namespace Duckton.Sql.Tests;

/// <summary>
/// The tabular admin functions (p2p_receipts, p2p_vouches, p2p_blocklist, p2p_block, p2p_unblock) return typed columns:
/// numbers sort and compare as numbers, timestamps compare with now(), booleans are BOOLEAN. Each test has its own node.
/// </summary>
[Collection(SqlCollection.Name)]
public sealed class TypedAdminTableTests : IDisposable
{
    private readonly IsolatedNode _node;
    private readonly Ed25519Key _requester = Ed25519Key.Generate();
    private readonly string _worker = NodeIds.FromPublicKey(Ed25519Key.Generate().PublicKey);

    public TypedAdminTableTests(SqlFixture fixture)
    {
        _ = fixture; // loads libduckdb
        _node = new IsolatedNode("duckton-typed-admin-");
    }

    public void Dispose()
    {
        _node.Dispose();
        _requester.Dispose();
    }

    /// <summary>Every value of the result as DuckDB renders it to VARCHAR (NULL as empty), one string per row joined by '|'.</summary>
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

    private Dictionary<string, string> Describe(string call) =>
        Rows($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {call})").Select(r => r.Split('|')).ToDictionary(p => p[0], p => p[1]);

    private void AddReceipts(params (string Job, ulong LatencyMs, int HoursAgo)[] receipts)
    {
        foreach (var (job, latency, hoursAgo) in receipts)
        {
            Assert.True(_node.Host.Trust.AddReceipt(new Receipt
            {
                JobId = job,
                WorkerId = _worker,
                RequesterId = NodeIds.FromPublicKey(_requester.PublicKey),
                QueryHash = "q-" + job,
                ResultHash = "r-" + job,
                Verdict = Verdict.Correct,
                Timestamp = (ulong)DateTimeOffset.UtcNow.AddHours(-hoursAgo).ToUnixTimeSeconds(),
                LatencyMs = latency,
                ObservedResultRows = latency * 100,
            }.SignWith(_requester)));
        }
    }

    [Fact]
    public void Receipts_have_numeric_timestamp_and_boolean_columns()
    {
        AddReceipts(("job-a", 9, 3), ("job-b", 10, 2), ("job-c", 100, 1));
        var types = Describe("p2p_receipts()");
        Assert.Equal("VARCHAR", types["job_id"]);
        Assert.Equal("VARCHAR", types["verdict"]);
        Assert.Equal("UBIGINT", types["latency_ms"]);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", types["ts"]);
        Assert.Equal("UBIGINT", types["observed_result_rows"]);
        Assert.Equal("UBIGINT", types["observed_result_bytes"]);
        Assert.Equal("BOOLEAN", types["signature_valid"]);
        Assert.Equal(["UBIGINT|TIMESTAMP WITH TIME ZONE|BOOLEAN"], Rows("SELECT DISTINCT typeof(latency_ms), typeof(ts), typeof(signature_valid) FROM p2p_receipts()"));

        // As text, '9' > '100' > '10' and nothing is < '10'; as numbers the order is 100, 10, 9 and one row is < 10.
        Assert.Equal(["job-c", "job-b", "job-a"], Rows("SELECT job_id FROM p2p_receipts() ORDER BY latency_ms DESC"));
        Assert.Equal(["job-a"], Rows("SELECT job_id FROM p2p_receipts() WHERE latency_ms < 10"));
        Assert.Equal(["job-c"], Rows("SELECT job_id FROM p2p_receipts() WHERE observed_result_rows >= 2000"));
        Assert.Equal(["3|true"], Rows("SELECT count(*), bool_and(signature_valid) FROM p2p_receipts() WHERE ts <= now() AND ts > now() - INTERVAL 4 HOUR"));
        Assert.Equal(["job-a"], Rows("SELECT job_id FROM p2p_receipts() WHERE ts < now() - INTERVAL 150 MINUTE"));
    }

    [Fact]
    public void Receipts_take_max_rows_and_the_old_limit_name_says_what_replaced_it()
    {
        AddReceipts(("job-1", 1, 3), ("job-2", 2, 2), ("job-3", 3, 1));
        Assert.Equal(["job-3", "job-2"], Rows("SELECT job_id FROM p2p_receipts(max_rows => 2)"));
        Assert.Equal(["job-3"], Rows($"SELECT job_id FROM p2p_receipts(worker => '{_worker}', max_rows => 1)"));
        Assert.Empty(Rows($"SELECT job_id FROM p2p_receipts(worker => 'b3:{new string('0', 64)}')"));

        // Quoted, the keyword parses and reaches the function, which names the new parameter.
        var e = Assert.Throws<DuckDBException>(() => Rows("SELECT * FROM p2p_receipts(\"limit\" => 2)"));
        Assert.Contains("max_rows", e.Message);
        Assert.Contains("keyword", e.Message);
        // Unquoted it is DuckDB's own syntax error: that is why the parameter was renamed.
        Assert.Throws<DuckDBException>(() => Rows("SELECT * FROM p2p_receipts(limit => 2)"));
        e = Assert.Throws<DuckDBException>(() => Rows("SELECT * FROM p2p_receipts(max_rows => 0)"));
        Assert.Contains("max_rows => 0 is out of range", e.Message);
    }

    [Fact]
    public void No_named_parameter_of_any_p2p_function_is_a_sql_keyword_that_cannot_be_a_parameter_name()
    {
        // Only unreserved and type/function-name keywords may name a parameter (`name => value`); reserved and
        // column-name keywords (LIMIT, ORDER, VALUES, ...) are syntax errors there.
        var names = SqlSurface.Functions(_node.Host).SelectMany(f => f.Named.Select(p => p.Name)).Where(n => n != "limit").Distinct().ToList();
        Assert.Contains("max_rows", names);
        var list = string.Join(", ", names.Select(n => $"'{n}'"));
        Assert.Empty(Rows($"SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category IN ('reserved', 'column_name') AND keyword_name IN ({list})"));
        // The check itself works: "limit" is such a keyword.
        Assert.Equal(["reserved"], Rows("SELECT keyword_category FROM duckdb_keywords() WHERE keyword_name = 'limit'"));
    }

    [Fact]
    public void Vouches_have_a_double_weight_a_timestamp_and_booleans()
    {
        using var a = Ed25519Key.Generate();
        using var b = Ed25519Key.Generate();
        var idA = NodeIds.FromPublicKey(a.PublicKey);
        var idB = NodeIds.FromPublicKey(b.PublicKey);
        Rows($"SELECT * FROM p2p_vouch('{idA}', weight => 0.25)");
        Rows($"SELECT * FROM p2p_vouch('{idB}', weight => 1.0)");
        _node.Host.Trust.AddVouch(_node.Host.Node.NodeId, _worker, 0.9); // an unsigned local vouch
        var types = Describe("p2p_vouches()");
        Assert.Equal("DOUBLE", types["weight"]);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", types["ts"]);
        Assert.Equal("BOOLEAN", types["signed"]);
        Assert.Equal("BOOLEAN", types["signature_valid"]);
        // As text '1' sorts first and '0.9' > '0.25'; numerically 1 > 0.9 > 0.25 too, so filter as well: only a number is > 0.3 and < 1.
        Assert.Equal([_worker], Rows("SELECT vouchee_id FROM p2p_vouches() WHERE weight > 0.3 AND weight < 1"));
        Assert.Equal([idB, _worker, idA], Rows("SELECT vouchee_id FROM p2p_vouches() ORDER BY weight DESC"));
        Assert.Equal(["3"], Rows("SELECT count(*) FROM p2p_vouches() WHERE ts BETWEEN now() - INTERVAL 5 MINUTE AND now() + INTERVAL 1 MINUTE"));
        Assert.Equal([$"{idA}|true|true", $"{_worker}|false|", $"{idB}|true|true"],
            Rows("SELECT vouchee_id, signed, signature_valid FROM p2p_vouches() ORDER BY weight"));
        Assert.Equal(["0.25"], Rows($"SELECT weight FROM p2p_vouches(node_id => '{idA}')"));
    }

    [Fact]
    public void Blocklist_and_block_functions_are_typed_one_row_per_entry()
    {
        var peer = "b3:" + new string('d', 64);
        Assert.Empty(Rows("SELECT * FROM p2p_blocklist()")); // empty is no rows, not a placeholder row
        Assert.Equal([$"blocked|{peer}|node_id|wrong rows|manual"], Rows($"SELECT status, id, kind, reason, source FROM p2p_block(id => '{peer}', reason => 'wrong rows')"));
        Rows("SELECT * FROM p2p_block(id => 'EQwallet1', reason => 'spam')");
        var types = Describe("p2p_blocklist()");
        Assert.Equal(["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMP WITH TIME ZONE"], new[] { "id", "kind", "reason", "source", "blocked_at" }.Select(k => types[k]));
        Assert.Equal("TIMESTAMP WITH TIME ZONE", Describe("p2p_block(id => 'EQwallet1')")["blocked_at"]);
        Assert.Equal(["2"], Rows("SELECT count(*) FROM p2p_blocklist() WHERE blocked_at BETWEEN now() - INTERVAL 5 MINUTE AND now() + INTERVAL 1 MINUTE"));
        Assert.Equal([$"unblocked|{peer}|node_id|wrong rows"], Rows($"SELECT status, id, kind, reason FROM p2p_unblock(id => '{peer}')"));
        Assert.Equal([$"not_found|{peer}|||"], Rows($"SELECT status, id, kind, reason, blocked_at FROM p2p_unblock(id => '{peer}')"));
        Assert.Equal(["EQwallet1|wallet"], Rows("SELECT id, kind FROM p2p_blocklist()"));
    }
}
