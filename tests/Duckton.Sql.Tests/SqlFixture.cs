using Duckton.Core.Data;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Node;
using Duckton.Sql;

namespace Duckton.Sql.Tests;

/// <summary>A real in-process DuckDB (libduckdb 1.5.6) with every p2p_* function registered, as the CLI has it.</summary>
public sealed class SqlFixture : IDisposable
{
    public SqlFixture()
    {
        DuckDBNative.InitializeFromLibrary();
        ConfigDirectory = Directory.CreateTempSubdirectory("duckton-sql-tests-").FullName;
        Host = new NodeHost(ConfigDirectory, name => name.StartsWith("P2P_", StringComparison.Ordinal) ? null : Environment.GetEnvironmentVariable(name));
        Database = DuckDBDatabase.Open(null);
        Connection = Database.Connect();
        SqlSurface.Register(Connection.Value, Host);
    }

    public string ConfigDirectory { get; }
    public NodeHost Host { get; }
    public DuckDBDatabase Database { get; }
    public DuckDBConnection Connection { get; }

    public ResultSet Query(string sql)
    {
        using var c = Database.Connect();
        return c.QueryAll(sql);
    }

    /// <summary>The first column of the first row, as DuckDB renders it to VARCHAR.</summary>
    public string? Scalar(string sql)
    {
        var r = Query($"SELECT CAST(({sql}) AS VARCHAR)");
        var col = r.Batches[0].Columns[0];
        return col.IsValid(0) ? System.Text.Encoding.UTF8.GetString(col.GetBytes(0)) : null;
    }

    public void Dispose()
    {
        Connection.Dispose();
        Database.Dispose();
        Host.Dispose();
        try
        {
            Directory.Delete(ConfigDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SqlCollection : ICollectionFixture<SqlFixture>
{
    public const string Name = "sql";
}
