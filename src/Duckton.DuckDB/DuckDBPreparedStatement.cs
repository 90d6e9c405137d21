using System.Runtime.InteropServices;
using Duckton.Core.Data;
using Duckton.DuckDB.Native;

namespace Duckton.DuckDB;

/// <summary>DuckDB's statement kinds (<c>duckdb_statement_type</c>), the ones we act on.</summary>
public enum DuckDBStatementType
{
    Invalid = 0,
    Select = 1,
    Insert = 2,
    Update = 3,
    Explain = 4,
}

/// <summary>An owned prepared statement (<c>duckdb_prepared_statement</c>).</summary>
public sealed unsafe class DuckDBPreparedStatement : SafeHandle
{
    internal DuckDBPreparedStatement(nint handle) : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    public DuckDBStatementType StatementType => (DuckDBStatementType)DuckDBNative.Api->duckdb_prepared_statement_type(handle);

    /// <summary>Binds parameter <paramref name="index"/> (1-based, as in SQL's <c>$1</c>) to a value; null binds NULL.</summary>
    /// <remarks>
    /// Supported: string, long, int, ulong, double, bool, byte[]. DuckDB copies the value. A value is bound as the type
    /// the statement expects for the parameter when it converts exactly (a decimal string or a non-negative integer for
    /// <c>$1::UBIGINT</c>, a small integer for UTINYINT): DuckDB plans a statement again at every execution whose bound
    /// value's type differs from the expected one, which costs as much as preparing it.
    /// </remarks>
    public DuckDBPreparedStatement Bind(int index, object? value)
    {
        var api = DuckDBNative.Api;
        var i = (ulong)index;
        if (value is string or long or int && (DuckTypeId)api->duckdb_param_type(handle, i) is var expected
            && ExactlyAs(value, expected) is { } converted)
        {
            value = converted;
        }
        var state = value switch
        {
            null => api->duckdb_bind_null(handle, i),
            ulong u => api->duckdb_bind_uint64(handle, i, u),
            byte b8 => api->duckdb_bind_uint8(handle, i, b8),
            string s => BindText(i, s),
            long l => api->duckdb_bind_int64(handle, i, l),
            int n => api->duckdb_bind_int64(handle, i, n),
            double d => api->duckdb_bind_double(handle, i, d),
            bool b => api->duckdb_bind_boolean(handle, i, b ? (byte)1 : (byte)0),
            byte[] blob => BindBlob(i, blob),
            _ => throw new ArgumentException($"cannot bind a {value.GetType().Name}", nameof(value)),
        };
        if (state != DuckDBState.Success)
        {
            throw new DuckDBException($"cannot bind parameter {index}");
        }
        return this;
    }

    private int BindText(ulong index, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes)
        {
            return DuckDBNative.Api->duckdb_bind_varchar_length(handle, index, p, (ulong)bytes.Length);
        }
    }

    private int BindBlob(ulong index, byte[] blob)
    {
        fixed (byte* p = blob)
        {
            return DuckDBNative.Api->duckdb_bind_blob(handle, index, p, (ulong)blob.Length);
        }
    }

    /// <summary>The value converted to the parameter's expected type (UBIGINT or UTINYINT) when that is exact; null otherwise.</summary>
    private static object? ExactlyAs(object value, DuckTypeId expected) => (expected, value) switch
    {
        (DuckTypeId.UBigInt, string s) when ulong.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var u) => u,
        (DuckTypeId.UBigInt, long l) when l >= 0 => (ulong)l,
        (DuckTypeId.UBigInt, int n) when n >= 0 => (ulong)n,
        (DuckTypeId.UTinyInt, long l) when l is >= 0 and <= byte.MaxValue => (byte)l,
        (DuckTypeId.UTinyInt, int n) when n is >= 0 and <= byte.MaxValue => (byte)n,
        _ => null,
    };

    /// <summary>Executes the statement; throws with DuckDB's message on failure.</summary>
    public DuckDBQueryResult Execute()
    {
        var result = DuckDBQueryResult.Allocate();
        return DuckDBQueryResult.FromState(DuckDBNative.Api->duckdb_execute_prepared(handle, result), result);
    }

    /// <summary>
    /// Executes the statement as a streaming result: DuckDB produces each chunk when it is fetched, so the result is never
    /// held whole. <c>duckdb_execute_prepared_streaming</c> is used rather than <c>duckdb_pending_prepared_streaming</c>
    /// (deprecated by DuckDB) since the chunks are pulled one at a time anyway and interrupting the connection stops a
    /// fetch just as it stops a pending task. Without the function (inside the loadable extension, whose API table lacks
    /// it) the result is materialised as by <see cref="Execute"/>, and read the same way. Until the streaming result is
    /// disposed, this connection must not run anything else (DuckDB would close the stream).
    /// </summary>
    public DuckDBQueryResult ExecuteStreaming()
    {
        var streaming = DuckDBNative.ExecutePreparedStreaming;
        if (streaming == null)
        {
            return Execute();
        }
        var result = DuckDBQueryResult.Allocate();
        return DuckDBQueryResult.FromState(streaming(handle, result), result);
    }

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDBNative.Api->duckdb_destroy_prepare(&h);
        return true;
    }
}
