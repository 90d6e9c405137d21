using Duckton.Cli.Output;
using Duckton.Core.Data;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Node;
using Duckton.Sql;

namespace Duckton.Cli;

/// <summary>An embedded in-memory DuckDB with every p2p_* function, as <c>duckton sql</c> uses it.</summary>
internal sealed class SqlSession : IDisposable
{
    private readonly NodeHost _host;
    private readonly DuckDBDatabase _database;
    private readonly DuckDBConnection _connection;

    public SqlSession(string configDirectory)
    {
        DuckDBNative.InitializeFromLibrary();
        ConfigDirectory = configDirectory;
        _host = new NodeHost(configDirectory);
        _database = DuckDBDatabase.Open(null);
        _connection = _database.Connect();
        SqlSurface.Register(_connection.Value, _host);
    }

    public string ConfigDirectory { get; }

    /// <summary>Runs every statement in <paramref name="sql"/>, rendering each result; false (error on stderr) at the first failure.</summary>
    public bool Run(string sql, IResultRenderer renderer, TextWriter output, TextWriter error)
    {
        // While a statement runs, SIGINT (Ctrl-C) interrupts it and nothing else, whether or not stdin is a terminal
        // (`duckton sql -c ...`, piped scripts), as in DuckDB's shell; the statement fails with DuckDB's interrupt error.
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            Interrupt();
        });
        try
        {
            _connection.RunStatements(sql, r =>
            {
                var result = r.ReadAll();
                renderer.Render(result, output);
            });
            return true;
        }
        catch (DuckDBException e)
        {
            error.WriteLine($"Error: {e.Message}");
            return false;
        }
    }

    /// <summary>Interrupts the running statement (Ctrl+C in the shell).</summary>
    public void Interrupt() => _connection.Interrupt();

    public ResultSet Query(string sql) => _connection.QueryAll(sql);

    public void Dispose()
    {
        _connection.Dispose();
        _database.Dispose();
        _host.Dispose();
    }
}
