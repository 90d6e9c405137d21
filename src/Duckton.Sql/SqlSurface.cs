using Duckton.DuckDB.Functions;
using Duckton.Node;

namespace Duckton.Sql;

/// <summary>
/// Every <c>p2p_*</c> table function, written once. The CLI registers them on its embedded database, the
/// extension on the database DuckDB hands it; both through the same API table.
/// </summary>
public static class SqlSurface
{
    /// <summary>The functions, bound to a node that is created on first use.</summary>
    public static IReadOnlyList<TableFunctionDefinition> Functions(NodeHost host) =>
    [
        new InfoFunction(),
        new QueryFunction(host),
        new QueryMetaFunction(host),
    ];

    /// <summary>Registers every function on <paramref name="connection"/> (a raw <c>duckdb_connection</c>).</summary>
    public static void Register(nint connection, NodeHost host)
    {
        foreach (var f in Functions(host))
        {
            TableFunctionRegistration.Register(connection, f);
        }
    }
}

/// <summary>Owns the process's <see cref="GridNode"/>, created lazily on the first call that needs it.</summary>
public sealed class NodeHost : IDisposable
{
    private readonly Lazy<GridNode> _node;

    public NodeHost(Func<GridNode> factory) => _node = new Lazy<GridNode>(factory, LazyThreadSafetyMode.ExecutionAndPublication);

    public GridNode Node => _node.Value;

    public void Dispose()
    {
        if (_node.IsValueCreated)
        {
            _node.Value.Dispose();
        }
    }
}
