using Duckton.DuckDB;

namespace Duckton.Sql.Tests;

/// <summary>Every way out of the locked-down engine that we know of fails with a clear error.</summary>
[Collection(SqlCollection.Name)]
public class EscapeTests(SqlFixture db)
{
    public static TheoryData<string, string> Attempts => new()
    {
        { "SELECT * FROM read_csv('/etc/passwd')", "Permission Error" },
        { "SELECT * FROM read_text('/etc/hostname')", "Permission Error" },
        { "SELECT * FROM read_parquet('/tmp/x.parquet')", "Permission Error" },
        { "SELECT * FROM glob('/etc/*')", "Permission Error" },
        { "COPY (SELECT 1) TO '/tmp/duckton-escape.csv'", "Permission Error" },
        { "EXPORT DATABASE '/tmp/duckton-escape-db'", "Permission Error" },
        { "ATTACH '/tmp/duckton-escape.duckdb' AS x", "Permission Error" },
        { "INSTALL httpfs", "Permission Error" },
        { "LOAD httpfs", "Permission Error" },
        { "LOAD '/tmp/evil.duckdb_extension'", "Permission Error" },
        { "SET enable_external_access = true", "locked" },
        { "SET disabled_filesystems = ''", "locked" },
        { "SET allow_unsigned_extensions = true", "locked" },
        { "RESET lock_configuration", "locked" },
        { "PRAGMA enable_external_access", "Catalog Error" },
        { "SELECT * FROM read_csv('https://example.com/x.csv')", "Permission Error" },
        { "SELECT * FROM read_json('s3://bucket/key.json')", "Permission Error" },
        { "SELECT getenv('HOME')", "getenv does not exist" },
        { "SELECT * FROM duckdb_secrets() WHERE secret_string LIKE '%key%' AND false UNION ALL SELECT * FROM read_blob('/proc/self/environ')", "Permission Error" },
        { "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b'); SELECT * FROM read_csv('s3://b/k')", "Permission Error" },
    };

    [Theory]
    [MemberData(nameof(Attempts))]
    public void Escape_attempt_fails_with_a_clear_error(string sql, string expected)
    {
        var quoted = sql.Replace("'", "''", StringComparison.Ordinal);
        var e = Assert.Throws<DuckDBException>(() => db.Query($"SELECT * FROM p2p_query('{quoted}')"));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists("/tmp/duckton-escape.csv"));
    }
}
