using System.Runtime.InteropServices;
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

    /// <summary>Executes the statement; throws with DuckDB's message on failure.</summary>
    public DuckDBQueryResult Execute()
    {
        var api = DuckDBNative.Api;
        var result = (DuckDBResult*)NativeMemory.AllocZeroed((nuint)sizeof(DuckDBResult));
        if (api->duckdb_execute_prepared(handle, result) != DuckDBState.Success)
        {
            var message = Utf8.ToManaged(api->duckdb_result_error(result)) ?? "unknown DuckDB error";
            api->duckdb_destroy_result(result);
            NativeMemory.Free(result);
            throw new DuckDBException(message);
        }
        return new DuckDBQueryResult(result);
    }

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDBNative.Api->duckdb_destroy_prepare(&h);
        return true;
    }
}
