using System.Text;
using Duckton.Core.Data;
using Duckton.DuckDB;
using Duckton.Tests.Shared;

namespace Duckton.Sql.Tests;

/// <summary>
/// The DuckDB wrapper's write path as the trust store uses it: statements kept prepared by their SQL, values bound as
/// the type the statement expects, and rows appended without SQL.
/// </summary>
[Collection(SqlCollection.Name)]
public class PreparedStatementsAndAppenderTests : IDisposable
{
    private readonly DuckDBDatabase _db;
    private readonly DuckDBConnection _connection;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public PreparedStatementsAndAppenderTests(SqlFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
    {
        _output = output;
        _ = fixture; // the fixture loads libduckdb
        _db = DuckDBDatabase.Open(null, [new("threads", "1")]);
        _connection = _db.Connect();
    }

    public void Dispose()
    {
        _connection.Dispose();
        _db.Dispose();
    }

    private static long Long(ResultSet rows, int column = 0, int row = 0) => BitConverter.ToInt64(rows.Batches[0].Columns[column].GetFixed(row));

    [Fact]
    public void Kept_statements_run_again_and_see_the_data_as_it_is_then()
    {
        _connection.Execute("CREATE TABLE staged (k VARCHAR, v UBIGINT); CREATE TABLE stored (k VARCHAR, v UBIGINT)");
        for (var i = 0; i < 10; i++)
        {
            _connection.Execute($"INSERT INTO staged VALUES ('a key long enough not to be inlined {i}', {i})");
            // The trust store's shapes: copy staged rows into a table, empty the staging table, read a scalar.
            _connection.QueryKept("INSERT INTO stored SELECT * FROM staged WHERE NOT EXISTS (SELECT 1 FROM stored s WHERE s.k = staged.k)");
            _connection.QueryKept("DELETE FROM staged");
            Assert.Equal(i + 1L, Long(_connection.QueryKept("SELECT count(*) FROM stored")));
        }
        Assert.Equal(45L, Long(_connection.QueryKept("SELECT sum(v)::BIGINT FROM stored")));
        var keys = _connection.QueryWith("SELECT k FROM stored ORDER BY v");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"a key long enough not to be inlined {i}"),
            Enumerable.Range(0, 10).Select(r => Encoding.UTF8.GetString(keys.Batches[0].Columns[0].GetBytes(r))));
        _connection.ForgetKeptStatements();
        Assert.Equal(10L, Long(_connection.QueryKept("SELECT count(*) FROM stored")));
        // Not kept: a statement that cannot be prepared, and one with ORDER BY (DuckDB 1.5 returns corrupted text when a
        // prepared statement with ORDER BY runs a second time).
        Assert.Throws<DuckDBException>(() => _connection.QueryKept("SELEKT 1"));
        Assert.Throws<ArgumentException>(() => _connection.QueryKept("SELECT k FROM stored ORDER BY v"));
    }

    [Fact]
    public void A_kept_statement_costs_less_CPU_per_run_than_preparing_it_each_time()
    {
        _connection.Execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR); INSERT INTO meta VALUES ('seq', '41'), ('block_seq', '7')");
        // The shape of the trust store's per-session statements: little to execute, so parsing, binding and planning
        // are most of the cost.
        const string Sql = "SELECT (SELECT value FROM meta WHERE key = 'seq')::BIGINT + 1, (SELECT value FROM meta WHERE key = 'block_seq')::BIGINT";
        // This thread's CPU time (parsing, binding and planning run on the calling thread), not the process's: other test
        // classes run beside this one and their CPU is not this statement's. Best of three alternated rounds.
        double CpuPerRun(Func<string, ResultSet> run)
        {
            var before = ThreadCpu.Milliseconds();
            for (var i = 0; i < 500; i++)
            {
                Assert.Equal(42L, Long(run(Sql)));
            }
            return (ThreadCpu.Milliseconds() - before) / 500;
        }
        CpuPerRun(sql => _connection.QueryWith(sql));
        CpuPerRun(_connection.QueryKept);
        double prepared = double.MaxValue, kept = double.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            prepared = Math.Min(prepared, CpuPerRun(sql => _connection.QueryWith(sql)));
            kept = Math.Min(kept, CpuPerRun(_connection.QueryKept));
        }
        _output.WriteLine($"CPU per run: kept {kept:F3} ms, prepared each time {prepared:F3} ms");
        Assert.True(kept * 2 < prepared, $"kept {kept:F3} ms, prepared each time {prepared:F3} ms");
    }

    [Fact]
    public void Values_are_bound_as_the_type_the_statement_expects_when_that_is_exact()
    {
        Assert.Equal(ulong.MaxValue, BitConverter.ToUInt64(_connection.QueryWith("SELECT $1::UBIGINT", "18446744073709551615").Batches[0].Columns[0].GetFixed(0)));
        Assert.Equal(5UL, BitConverter.ToUInt64(_connection.QueryWith("SELECT $1::UBIGINT", 5L).Batches[0].Columns[0].GetFixed(0)));
        Assert.Equal(200, _connection.QueryWith("SELECT $1::UTINYINT", 200L).Batches[0].Columns[0].GetFixed(0)[0]);
        // Not exact: bound as given, and DuckDB's own cast decides (and refuses) as before.
        Assert.Contains("UINT64", Assert.Throws<DuckDBException>(() => _connection.QueryWith("SELECT $1::UBIGINT", "-1")).Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<DuckDBException>(() => _connection.QueryWith("SELECT $1::UTINYINT", 300L));
        Assert.Throws<DuckDBException>(() => _connection.QueryWith("SELECT $1::UBIGINT", "12 apples"));
        // A parameter whose type DuckDB infers from elsewhere keeps the value's own type.
        Assert.Equal("abc", Encoding.UTF8.GetString(_connection.QueryWith("SELECT $1 || ''", "abc").Batches[0].Columns[0].GetBytes(0)));
    }

    [Fact]
    public void The_appender_writes_every_value_kind_and_its_rows_follow_the_open_transaction()
    {
        _connection.Execute("CREATE TABLE staged (s VARCHAR, u UBIGINT, b UTINYINT, blob BLOB)");
        var longText = new string('é', 400); // 800 bytes of UTF-8: past the appender's stack buffer
        using (var appender = DuckDBAppender.Open(_connection, "memory", "main", "staged"))
        {
            appender.Append("plain").Append(ulong.MaxValue).Append((byte)7).Append([1, 2, 3]).EndRow();
            appender.Append("").Append(0UL).Append((byte)0).Append(Array.Empty<byte>()).EndRow();
            appender.Append((string?)null).Append(42UL).Append((byte)255).Append((byte[]?)null).EndRow();
            appender.Append(longText).Append(1UL).Append((byte)1).Append([0]).EndRow();
            appender.Flush();
        }
        var rows = _connection.QueryWith("SELECT s, u, b, blob FROM staged ORDER BY u");
        var b = rows.Batches[0];
        Assert.Equal(4, rows.RowCount);
        Assert.Equal(("", 0UL, (byte)0, 0), (Encoding.UTF8.GetString(b.Columns[0].GetBytes(0)), BitConverter.ToUInt64(b.Columns[1].GetFixed(0)), b.Columns[2].GetFixed(0)[0], b.Columns[3].GetBytes(0).Length));
        Assert.Equal(longText, Encoding.UTF8.GetString(b.Columns[0].GetBytes(1)));
        Assert.False(b.Columns[0].IsValid(2));
        Assert.False(b.Columns[3].IsValid(2));
        Assert.Equal((byte)255, b.Columns[2].GetFixed(2)[0]);
        Assert.Equal(("plain", ulong.MaxValue, (byte)7), (Encoding.UTF8.GetString(b.Columns[0].GetBytes(3)), BitConverter.ToUInt64(b.Columns[1].GetFixed(3)), b.Columns[2].GetFixed(3)[0]));
        Assert.Equal(new byte[] { 1, 2, 3 }, b.Columns[3].GetBytes(3).ToArray());

        // Inside an open transaction the flushed rows are that transaction's: a rollback takes them back.
        _connection.Execute("BEGIN TRANSACTION");
        using (var appender = DuckDBAppender.Open(_connection, "memory", "main", "staged"))
        {
            appender.Append("rolled back").Append(9UL).Append((byte)9).Append([9]).EndRow();
            appender.Flush();
        }
        Assert.Equal(5L, Long(_connection.QueryWith("SELECT count(*) FROM staged")));
        _connection.Execute("ROLLBACK");
        Assert.Equal(4L, Long(_connection.QueryWith("SELECT count(*) FROM staged")));

        // A row with too few values, or a table that does not exist: DuckDB's message.
        using (var appender = DuckDBAppender.Open(_connection, "memory", "main", "staged"))
        {
            appender.Append("short");
            Assert.Throws<DuckDBException>(appender.EndRow);
        }
        Assert.Contains("missing", Assert.Throws<DuckDBException>(() => DuckDBAppender.Open(_connection, "memory", "main", "missing")).Message, StringComparison.Ordinal);
    }
}
