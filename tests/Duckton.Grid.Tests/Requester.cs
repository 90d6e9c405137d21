using Duckton.Core.Data;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Node;
using Duckton.Sql;

namespace Duckton.Grid.Tests;

/// <summary>An in-process requester: a real DuckDB with every p2p_* function, and its own configuration directory.</summary>
public sealed class Requester : IDisposable
{
    public Requester(string root, string name, params (string Key, string Value)[] settings)
    {
        DuckDBNative.InitializeFromLibrary();
        ConfigDirectory = Path.Combine(root, name);
        Directory.CreateDirectory(ConfigDirectory);
        Host = new NodeHost(ConfigDirectory, n => n.StartsWith("P2P_", StringComparison.Ordinal) ? null : Environment.GetEnvironmentVariable(n));
        foreach (var (k, v) in settings)
        {
            Host.Config.Set(k, v);
        }
        Database = DuckDBDatabase.Open(null);
        Connection = Database.Connect();
        SqlSurface.Register(Connection.Value, Host);
    }

    public string ConfigDirectory { get; }
    public NodeHost Host { get; }
    public DuckDBDatabase Database { get; }
    public DuckDBConnection Connection { get; }

    public ResultSet Sql(string sql)
    {
        using var c = Database.Connect();
        return c.QueryAll(sql);
    }

    /// <summary>Rows of a VARCHAR result as strings.</summary>
    public List<string?[]> Rows(string sql)
    {
        var r = Sql(sql);
        var rows = new List<string?[]>();
        foreach (var b in r.Batches)
        {
            for (var i = 0; i < b.RowCount; i++)
            {
                rows.Add([.. b.Columns.Select(c => c.IsValid(i) ? System.Text.Encoding.UTF8.GetString(c.GetBytes(i)) : null)]);
            }
        }
        return rows;
    }

    /// <summary>
    /// <c>p2p_join</c>, then gossip rounds until at least <paramref name="peers"/> live peers are known: on a loaded
    /// machine the join's one round can time out (p2p_join keeps the seed and does not fail), and a query started
    /// before any peer is known finds no host.
    /// </summary>
    public void JoinAndLearn(string seed, int peers, TimeSpan? timeout = null)
    {
        Rows($"SELECT * FROM p2p_join(bootstrap => ['{seed}'])");
        var grid = Host.Node.Grid;
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (grid.Membership.Live().Count < peers && deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)))
        {
            grid.GossipRoundAsync().GetAwaiter().GetResult();
            if (grid.Membership.Live().Count < peers)
            {
                Thread.Sleep(200);
            }
        }
        Assert.True(grid.Membership.Live().Count >= peers, $"knows {grid.Membership.Live().Count} of {peers} peers after joining {seed}; last gossip error: {grid.LastGossipError}");
    }

    public Dictionary<string, string?> Meta(string sqlLiteral, string options = "") =>
        Rows($"SELECT key, value FROM p2p_query_meta({sqlLiteral}{options})").ToDictionary(r => r[0]!, r => r[1]);

    public void Dispose()
    {
        Connection.Dispose();
        Database.Dispose();
        Host.Dispose();
    }
}
