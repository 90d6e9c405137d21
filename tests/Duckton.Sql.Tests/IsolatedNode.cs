using Duckton.DuckDB;
using Duckton.Node;

namespace Duckton.Sql.Tests;

/// <summary>
/// An in-memory DuckDB with every p2p_* function, over a node in a temporary config directory of its own (the test
/// process's P2P_* variables ignored); disposing it removes the directory. libduckdb must be loaded (SqlFixture).
/// </summary>
internal sealed class IsolatedNode : IDisposable
{
    private readonly DuckDBDatabase _db;

    public IsolatedNode(string prefix)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory(prefix).FullName;
        Host = new NodeHost(Directory, n => n.StartsWith("P2P_", StringComparison.Ordinal) ? null : Environment.GetEnvironmentVariable(n));
        _db = DuckDBDatabase.Open(null);
        Connection = _db.Connect();
        SqlSurface.Register(Connection.Value, Host);
    }

    public string Directory { get; }

    public NodeHost Host { get; }

    public DuckDBConnection Connection { get; }

    /// <summary>Another connection to the same database (each statement sees the same p2p_* functions).</summary>
    public DuckDBConnection Connect() => _db.Connect();

    public void Dispose()
    {
        Connection.Dispose();
        _db.Dispose();
        Host.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
