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
        var result = (DuckDBResult*)NativeMemory.AllocZeroed((nuint)sizeof(DuckDBResult));
        using var s = new Utf8.Scoped(sql);
        if (DuckDBNative.Api->duckdb_query(handle, s.Pointer, result) != DuckDBState.Success)
        {
            var message = Utf8.ToManaged(DuckDBNative.Api->duckdb_result_error(result)) ?? "unknown DuckDB error";
            DuckDBNative.Api->duckdb_destroy_result(result);
            NativeMemory.Free(result);
            throw new DuckDBException(message);
        }
        return new DuckDBQueryResult(result);
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

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDBNative.Api->duckdb_disconnect(&h);
        return true;
    }
}
