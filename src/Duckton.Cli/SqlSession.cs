using System.Runtime.CompilerServices;
using Duckton.Cli.Output;
using Duckton.Core.Data;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Node.Grid;
using Duckton.Sql;

namespace Duckton.Cli;

/// <summary>Sees each statement the session runs (the shell's timer and progress display).</summary>
internal interface IStatementWatcher
{
    /// <summary>The statement is about to run.</summary>
    void Started();

    /// <summary>The statement ran (or failed); its rows, if any, are about to be written.</summary>
    void Executed();

    /// <summary>The statement's output (or error) has been written.</summary>
    void Finished();
}

/// <summary>
/// An embedded DuckDB (in memory, or the database file given) with every p2p_* function, as <c>duckton sql</c> uses it.
/// </summary>
internal sealed partial class SqlSession : IDisposable, IGridProgressObserver
{
    private readonly NodeHost _host;
    private readonly DuckDBDatabase _database;
    private readonly DuckDBConnection _connection;
    // Boxed so a reader on another thread never sees a half-written value.
    private volatile StrongBox<GridProgress>? _grid;

    /// <param name="configDirectory">The node's configuration directory.</param>
    /// <param name="databasePath">A DuckDB database file to open (created if missing); null for an in-memory database.</param>
    /// <exception cref="DuckDBException">The database file cannot be opened (read-only, locked by another process...).</exception>
    public SqlSession(string configDirectory, string? databasePath = null)
    {
        DuckDBNative.InitializeFromLibrary();
        ConfigDirectory = configDirectory;
        DatabasePath = databasePath;
        _host = new NodeHost(configDirectory) { GridProgress = this };
        try
        {
            _database = DuckDBDatabase.Open(databasePath);
            _connection = _database.Connect();
            SqlSurface.Register(_connection.Value, _host);
        }
        catch
        {
            _connection?.Dispose();
            _database?.Dispose();
            _host.Dispose();
            throw;
        }
    }

    public string ConfigDirectory { get; }

    public string? DatabasePath { get; }

    /// <summary>Runs every statement in <paramref name="sql"/>, rendering each result; false (error on stderr) at the first failure.</summary>
    public bool Run(string sql, IResultRenderer renderer, TextWriter output, TextWriter error, IStatementWatcher? watcher = null)
    {
        // While a statement runs, SIGINT (Ctrl-C) interrupts it and nothing else, whether or not stdin is a terminal
        // (`duckton sql -c ...`, piped scripts), as in DuckDB's shell; the statement fails with DuckDB's interrupt error.
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            Interrupt();
        });
        var running = false;
        try
        {
            _connection.RunStatements(sql, r =>
            {
                var result = r.ReadAll();
                watcher?.Executed();
                running = false;
                if (r.ReturnsRows)
                {
                    // As DuckDB's shell: CREATE, INSERT and the like print nothing.
                    renderer.Render(result, output);
                    output.Flush();
                }
                watcher?.Finished();
            }, beforePrepare: () =>
            {
                // From the prepare on: binding p2p_query runs the whole remote query.
                _grid = null;
                running = true;
                watcher?.Started();
            });
            return true;
        }
        catch (DuckDBException e)
        {
            if (running)
            {
                watcher?.Executed();
            }
            error.WriteLine(ErrorLine(e.Message));
            if (running)
            {
                watcher?.Finished();
            }
            return false;
        }
        catch when (running)
        {
            watcher?.Executed(); // never leave a progress line drawing after an unexpected failure
            throw;
        }
    }

    /// <summary>
    /// DuckDB's messages already name their kind ("Binder Error: ...", "INTERRUPT Error: ..."), as its own shell prints
    /// them; only a message without one gets the shell's "Error: " so that every failure line names itself once.
    /// </summary>
    internal static string ErrorLine(string message) =>
        KindPrefix().IsMatch(message) ? message : $"Error: {message}";

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z][A-Za-z ]* Error: ")]
    private static partial System.Text.RegularExpressions.Regex KindPrefix();

    /// <summary>Interrupts the running statement (Ctrl+C in the shell).</summary>
    public void Interrupt() => _connection.Interrupt();

    /// <summary>Has DuckDB track query progress for <see cref="Progress"/> without printing its own bar.</summary>
    public void TrackProgress()
    {
        _connection.Execute("SET enable_progress_bar = true");
        _connection.Execute("SET enable_progress_bar_print = false");
    }

    /// <summary>DuckDB's progress of the running statement (percentage -1: unknown).</summary>
    public DuckDBQueryProgress Progress() => _connection.Progress();

    /// <summary>The last phase of a remote query reported since the current statement started, if any.</summary>
    public GridProgress? GridPhase => _grid?.Value;

    void IGridProgressObserver.OnProgress(GridProgress progress) => _grid = new StrongBox<GridProgress>(progress);

    public ResultSet Query(string sql) => _connection.QueryAll(sql);

    public ResultSet QueryWith(string sql, params object?[] parameters) => _connection.QueryWith(sql, parameters);

    public void Dispose()
    {
        _connection.Dispose();
        _database.Dispose();
        _host.Dispose();
    }
}
