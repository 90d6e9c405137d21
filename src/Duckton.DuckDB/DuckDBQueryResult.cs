using System.Runtime.InteropServices;
using Duckton.Core.Data;
using Duckton.DuckDB.Native;

namespace Duckton.DuckDB;

/// <summary>A query result read chunk by chunk into typed <see cref="ResultBatch"/>es.</summary>
public sealed unsafe class DuckDBQueryResult : IDisposable
{
    private DuckDBResult* _result;

    internal DuckDBQueryResult(DuckDBResult* result)
    {
        _result = result;
        var api = DuckDBNative.Api;
        var count = (int)api->duckdb_column_count(result);
        var names = new string[count];
        var types = new DuckType[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = Utf8.ToManaged(api->duckdb_column_name(result, (ulong)i)) ?? "";
            var lt = api->duckdb_column_logical_type(result, (ulong)i);
            try
            {
                types[i] = LogicalTypes.ToDuckType(lt);
            }
            finally
            {
                api->duckdb_destroy_logical_type(&lt);
            }
        }
        Schema = new ResultSchema(names, types);
        RowsChanged = (long)api->duckdb_rows_changed(result);
        ReturnsRows = api->duckdb_result_return_type(*result) == QueryResultType;
    }

    // DUCKDB_RESULT_TYPE_QUERY_RESULT; the others are INVALID (0), CHANGED_ROWS (1) and NOTHING (2).
    private const int QueryResultType = 3;

    public ResultSchema Schema { get; }
    public long RowsChanged { get; }

    /// <summary>True for a query's rows; false for a statement that only changed rows (INSERT...) or returns nothing (CREATE...).</summary>
    public bool ReturnsRows { get; }

    /// <summary>True for a streaming result (<see cref="DuckDBPreparedStatement.ExecuteStreaming"/> with a directly loaded library).</summary>
    public bool IsStreaming
    {
        get
        {
            ObjectDisposedException.ThrowIf(_result == null, this);
            var isStreaming = DuckDBNative.ResultIsStreaming;
            return isStreaming != null && isStreaming(*_result) != 0;
        }
    }

    /// <summary>Allocates the native <c>duckdb_result</c> a query writes into.</summary>
    internal static DuckDBResult* Allocate() => (DuckDBResult*)NativeMemory.AllocZeroed((nuint)sizeof(DuckDBResult));

    /// <summary>Wraps a result DuckDB has filled; on a failed <paramref name="state"/> frees it and throws DuckDB's message.</summary>
    internal static DuckDBQueryResult FromState(int state, DuckDBResult* result)
    {
        if (state == DuckDBState.Success)
        {
            return new DuckDBQueryResult(result);
        }
        var message = Utf8.ToManaged(DuckDBNative.Api->duckdb_result_error(result)) ?? "unknown DuckDB error";
        DuckDBNative.Api->duckdb_destroy_result(result);
        NativeMemory.Free(result);
        throw new DuckDBException(message);
    }

    /// <summary>The next chunk, or null at the end. Throws with DuckDB's message if execution fails while streaming.</summary>
    public ResultBatch? ReadBatch()
    {
        ObjectDisposedException.ThrowIf(_result == null, this);
        var api = DuckDBNative.Api;
        var chunk = api->duckdb_fetch_chunk(*_result);
        if (chunk == 0)
        {
            var error = api->duckdb_result_error(_result);
            if (error != null)
            {
                throw new DuckDBException(Utf8.ToManaged(error)!);
            }
            return null;
        }
        try
        {
            var rows = (int)api->duckdb_data_chunk_get_size(chunk);
            var columns = new ColumnVector[Schema.Count];
            for (var c = 0; c < columns.Length; c++)
            {
                columns[c] = VectorReader.Read(api->duckdb_data_chunk_get_vector(chunk, (ulong)c), Schema.Types[c], rows);
            }
            return new ResultBatch(Schema, columns, rows);
        }
        finally
        {
            api->duckdb_destroy_data_chunk(&chunk);
        }
    }

    /// <summary>Reads every remaining chunk; fails once the batches' size passes <paramref name="maxResultBytes"/>.</summary>
    public ResultSet ReadAll(long maxResultBytes = long.MaxValue)
    {
        var batches = new List<ResultBatch>();
        long bytes = 0;
        while (ReadBatch() is { } batch)
        {
            if (batch.RowCount == 0)
            {
                continue;
            }
            bytes += BatchSize.Estimate(batch);
            if (bytes > maxResultBytes)
            {
                throw new DuckDBException($"result exceeds the limit of {maxResultBytes} bytes (limits.max_result_bytes)");
            }
            batches.Add(batch);
        }
        return new ResultSet(Schema, batches);
    }

    public void Dispose()
    {
        if (_result != null)
        {
            DuckDBNative.Api->duckdb_destroy_result(_result);
            NativeMemory.Free(_result);
            _result = null;
        }
    }
}
