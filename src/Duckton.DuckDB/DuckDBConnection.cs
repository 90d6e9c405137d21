using System.Runtime.InteropServices;
using Duckton.Core.Data;
using Duckton.DuckDB.Native;

namespace Duckton.DuckDB;

/// <summary>An owned DuckDB connection (<c>duckdb_connection</c>), disconnected on dispose.</summary>
public sealed unsafe class DuckDBConnection : SafeHandle
{
    private DuckDBConnection(nint handle) : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    /// <summary>The raw <c>duckdb_connection</c> value.</summary>
    public nint Value => handle;

    internal static DuckDBConnection Open(DuckDBDatabase database)
    {
        nint conn = 0;
        if (DuckDBNative.Api->duckdb_connect(database.Value, &conn) != DuckDBState.Success)
        {
            throw new DuckDBException("cannot connect to the DuckDB database");
        }
        return new DuckDBConnection(conn);
    }

    /// <summary>Runs SQL and returns a streaming reader over its chunks; throws <see cref="DuckDBException"/> with DuckDB's message.</summary>
    public DuckDBQueryResult Query(string sql)
    {
        var result = DuckDBQueryResult.Allocate();
        using var s = new Utf8.Scoped(sql);
        return DuckDBQueryResult.FromState(DuckDBNative.Api->duckdb_query(handle, s.Pointer, result), result);
    }

    /// <summary>
    /// Splits <paramref name="sql"/> into statements and runs them in order, handing each result to
    /// <paramref name="onResult"/>; stops at the first failing statement by throwing its error.
    /// <paramref name="beforeExecute"/> sees each prepared statement first and may refuse it by throwing;
    /// <paramref name="beforePrepare"/> runs before each statement is prepared (binding can take long: a table
    /// function may do its work there).
    /// </summary>
    public void RunStatements(string sql, Action<DuckDBQueryResult> onResult, Action<DuckDBPreparedStatement>? beforeExecute = null, Action? beforePrepare = null)
    {
        var api = DuckDBNative.Api;
        nint extracted = 0;
        try
        {
            ulong count;
            using (var s = new Utf8.Scoped(sql))
            {
                count = api->duckdb_extract_statements(handle, s.Pointer, &extracted);
            }
            if (count == 0)
            {
                var error = Utf8.ToManaged(api->duckdb_extract_statements_error(extracted));
                if (error is null)
                {
                    return; // only whitespace or comments
                }
                throw new DuckDBException(error);
            }
            for (var i = 0UL; i < count; i++)
            {
                nint prepared = 0;
                beforePrepare?.Invoke();
                try
                {
                    if (api->duckdb_prepare_extracted_statement(handle, extracted, i, &prepared) != DuckDBState.Success)
                    {
                        throw new DuckDBException(Utf8.ToManaged(api->duckdb_prepare_error(prepared)) ?? "cannot prepare the statement");
                    }
                }
                catch
                {
                    api->duckdb_destroy_prepare(&prepared);
                    throw;
                }
                using var statement = new DuckDBPreparedStatement(prepared);
                beforeExecute?.Invoke(statement);
                using var r = statement.Execute();
                onResult(r);
            }
        }
        finally
        {
            if (extracted != 0)
            {
                api->duckdb_destroy_extracted(&extracted);
            }
        }
    }

    /// <summary>
    /// Prepares a single statement. Returns null (with <paramref name="error"/> set) when DuckDB cannot prepare it,
    /// e.g. for several statements at once or a syntax error.
    /// </summary>
    public DuckDBPreparedStatement? TryPrepare(string sql, out string? error)
    {
        var api = DuckDBNative.Api;
        nint prepared = 0;
        using var s = new Utf8.Scoped(sql);
        if (api->duckdb_prepare(handle, s.Pointer, &prepared) != DuckDBState.Success)
        {
            error = Utf8.ToManaged(api->duckdb_prepare_error(prepared)) ?? "cannot prepare the statement";
            api->duckdb_destroy_prepare(&prepared);
            return null;
        }
        error = null;
        return new DuckDBPreparedStatement(prepared);
    }

    /// <summary>Runs one parameterised statement (<c>$1</c>, <c>$2</c>, ...) and materialises its result.</summary>
    public ResultSet QueryWith(string sql, params object?[] parameters)
    {
        using var statement = TryPrepare(sql, out var error) ?? throw new DuckDBException(error ?? "cannot prepare the statement");
        for (var i = 0; i < parameters.Length; i++)
        {
            statement.Bind(i + 1, parameters[i]);
        }
        using var result = statement.Execute();
        return result.ReadAll();
    }

    /// <summary>Statements of <see cref="QueryKept"/>, prepared once, by their SQL text.</summary>
    private Dictionary<string, DuckDBPreparedStatement>? _kept;
    private const int MaxKept = 64;

    /// <summary>
    /// Runs a statement without parameters that the caller runs again and again (a fixed set of them), prepared once
    /// and kept: neither parsed nor planned again, which for a small statement is most of its cost. Kept until
    /// <see cref="ForgetKeptStatements"/> (call it before the catalog they read is detached). Parameters are not
    /// offered: DuckDB plans a statement with one again at every execution when it reads a table. A statement with
    /// ORDER BY is refused: DuckDB 1.5 returns corrupted VARCHAR values when such a prepared statement runs a second time.
    /// </summary>
    public ResultSet QueryKept(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        _kept ??= new(StringComparer.Ordinal);
        if (!_kept.TryGetValue(sql, out var statement))
        {
            if (sql.Contains("ORDER BY", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException("a statement with ORDER BY cannot be kept prepared (DuckDB returns corrupted text when it runs again); use QueryWith", nameof(sql));
            }
            statement = TryPrepare(sql, out var error) ?? throw new DuckDBException(error ?? "cannot prepare the statement");
            if (_kept.Count >= MaxKept)
            {
                ForgetKeptStatements(); // more distinct statements than a fixed set: start over rather than grow
            }
            _kept[sql] = statement;
        }
        using var result = statement.Execute();
        return result.ReadAll();
    }

    /// <summary>Destroys the statements <see cref="QueryKept"/> kept.</summary>
    public void ForgetKeptStatements()
    {
        if (_kept is null)
        {
            return;
        }
        foreach (var statement in _kept.Values)
        {
            statement.Dispose();
        }
        _kept.Clear();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ForgetKeptStatements(); // before the connection they belong to
        }
        base.Dispose(disposing);
    }

    /// <summary>Runs SQL and discards its result.</summary>
    public void Execute(string sql)
    {
        using var r = Query(sql);
    }

    /// <summary>Runs SQL and materialises the whole result.</summary>
    public ResultSet QueryAll(string sql, long maxResultBytes = long.MaxValue)
    {
        using var r = Query(sql);
        return r.ReadAll(maxResultBytes);
    }

    /// <summary>Interrupts the statement running on this connection (thread-safe).</summary>
    public void Interrupt() => DuckDBNative.Api->duckdb_interrupt(handle);

    /// <summary>
    /// How far the running statement is (<c>duckdb_query_progress</c>); a percentage of -1 when DuckDB cannot tell.
    /// Only tracked while the <c>enable_progress_bar</c> setting is on. Safe to call from another thread.
    /// </summary>
    public DuckDBQueryProgress Progress() => DuckDBNative.Api->duckdb_query_progress(handle);

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDBNative.Api->duckdb_disconnect(&h);
        return true;
    }
}

