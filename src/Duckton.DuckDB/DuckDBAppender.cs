using System.Runtime.InteropServices;
using System.Text;
using Duckton.DuckDB.Native;

namespace Duckton.DuckDB;

/// <summary>
/// An owned DuckDB appender (<c>duckdb_appender</c>): rows go straight into a table's storage, with no SQL to parse,
/// bind or plan. Values are appended column by column; <see cref="EndRow"/> finishes a row and <see cref="Flush"/>
/// flushes them (inside the connection's open transaction, if there is one). Dispose destroys it, and DuckDB flushes
/// whatever complete rows <see cref="Flush"/> did not: append inside a transaction the caller rolls back on failure, or
/// to a table it can clear.
/// </summary>
public sealed unsafe class DuckDBAppender : SafeHandle
{
    private static readonly byte[] s_empty = [0]; // a valid pointer for a zero-length BLOB

    private DuckDBAppender(nint handle) : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    /// <summary>Opens an appender on <paramref name="catalog"/>.<paramref name="schema"/>.<paramref name="table"/>.</summary>
    public static DuckDBAppender Open(DuckDBConnection connection, string catalog, string schema, string table)
    {
        ArgumentNullException.ThrowIfNull(connection);
        nint appender = 0;
        using var c = new Utf8.Scoped(catalog);
        using var s = new Utf8.Scoped(schema);
        using var t = new Utf8.Scoped(table);
        var api = DuckDBNative.Api;
        if (api->duckdb_appender_create_ext(connection.Value, c.Pointer, s.Pointer, t.Pointer, &appender) != DuckDBState.Success)
        {
            var error = Utf8.ToManaged(api->duckdb_appender_error(appender)) ?? $"cannot append to {catalog}.{schema}.{table}";
            api->duckdb_appender_destroy(&appender);
            throw new DuckDBException(error);
        }
        return new DuckDBAppender(appender);
    }

    /// <summary>
    /// Opens an appender on <paramref name="columns"/> of <paramref name="catalog"/>.<paramref name="schema"/>.<paramref name="table"/>,
    /// in that order: the table's other columns take their defaults (or NULL), whatever their positions.
    /// </summary>
    public static DuckDBAppender Open(DuckDBConnection connection, string catalog, string schema, string table, ReadOnlySpan<string> columns)
    {
        var appender = Open(connection, catalog, schema, table);
        try
        {
            foreach (var column in columns)
            {
                using var name = new Utf8.Scoped(column);
                appender.Check(DuckDBNative.Api->duckdb_appender_add_column(appender.handle, name.Pointer));
            }
            return appender;
        }
        catch
        {
            appender.Dispose();
            throw;
        }
    }

    /// <summary>Appends a VARCHAR value (NULL for null).</summary>
    public DuckDBAppender Append(string? value)
    {
        if (value is null)
        {
            return Check(DuckDBNative.Api->duckdb_append_null(handle));
        }
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        var rented = max <= 512 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(max);
        try
        {
            Span<byte> buffer = rented ?? stackalloc byte[512];
            var n = Encoding.UTF8.GetBytes(value, buffer);
            fixed (byte* p = buffer)
            {
                return Check(DuckDBNative.Api->duckdb_append_varchar_length(handle, p, (ulong)n));
            }
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Appends a UBIGINT value.</summary>
    public DuckDBAppender Append(ulong value) => Check(DuckDBNative.Api->duckdb_append_uint64(handle, value));

    /// <summary>Appends a UTINYINT value.</summary>
    public DuckDBAppender Append(byte value) => Check(DuckDBNative.Api->duckdb_append_uint8(handle, value));

    /// <summary>Appends a BLOB value (NULL for null).</summary>
    public DuckDBAppender Append(byte[]? value)
    {
        if (value is null)
        {
            return Check(DuckDBNative.Api->duckdb_append_null(handle));
        }
        fixed (byte* p = value.Length == 0 ? s_empty : value)
        {
            return Check(DuckDBNative.Api->duckdb_append_blob(handle, p, (ulong)value.Length));
        }
    }

    /// <summary>Finishes the current row (every column must have been appended).</summary>
    public void EndRow() => Check(DuckDBNative.Api->duckdb_appender_end_row(handle));

    /// <summary>Flushes the appended rows into the table and closes the appender; throws with DuckDB's message on failure.</summary>
    public void Flush() => Check(DuckDBNative.Api->duckdb_appender_close(handle));

    private DuckDBAppender Check(int state)
    {
        if (state != DuckDBState.Success)
        {
            throw new DuckDBException(Utf8.ToManaged(DuckDBNative.Api->duckdb_appender_error(handle)) ?? "the appender failed");
        }
        return this;
    }

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDBNative.Api->duckdb_appender_destroy(&h);
        return true;
    }
}
