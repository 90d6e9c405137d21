using System.Runtime.InteropServices;
using Duckton.DuckDB.Native;

namespace Duckton.DuckDB;

/// <summary>An owned DuckDB database (<c>duckdb_database</c>), closed on dispose.</summary>
public sealed unsafe class DuckDBDatabase : SafeHandle
{
    private DuckDBDatabase(nint handle) : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    /// <summary>Opens a database (<c>:memory:</c> when <paramref name="path"/> is null) with the given settings applied at start-up, in order.</summary>
    public static DuckDBDatabase Open(string? path, IEnumerable<KeyValuePair<string, string>>? settings = null)
    {
        var api = DuckDBNative.Api;
        nint config = 0;
        if (api->duckdb_create_config(&config) != DuckDBState.Success)
        {
            throw new DuckDBException("duckdb_create_config failed");
        }
        try
        {
            foreach (var (name, value) in settings ?? [])
            {
                using var n = new Utf8.Scoped(name);
                using var v = new Utf8.Scoped(value);
                if (api->duckdb_set_config(config, n.Pointer, v.Pointer) != DuckDBState.Success)
                {
                    throw new DuckDBException($"DuckDB rejected the setting {name}={value}");
                }
            }
            nint db = 0;
            byte* error = null;
            using var p = new Utf8.Scoped(path ?? ":memory:");
            if (api->duckdb_open_ext(p.Pointer, &db, config, &error) != DuckDBState.Success)
            {
                var message = Utf8.ToManaged(error) ?? "unknown error";
                if (error != null)
                {
                    api->duckdb_free(error);
                }
                throw new DuckDBException($"cannot open DuckDB database: {message}");
            }
            return new DuckDBDatabase(db);
        }
        finally
        {
            api->duckdb_destroy_config(&config);
        }
    }

    /// <summary>Wraps a database owned by someone else (the extension loader's); never closed by us.</summary>
    public static DuckDBDatabase Borrow(nint database)
    {
        var db = new DuckDBDatabase(database);
        db.SetHandleAsInvalid();
        db._borrowed = database;
        return db;
    }

    private nint _borrowed;

    /// <summary>The raw <c>duckdb_database</c> value.</summary>
    public nint Value => _borrowed != 0 ? _borrowed : handle;

    public DuckDBConnection Connect() => DuckDBConnection.Open(this);

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDBNative.Api->duckdb_close(&h);
        return true;
    }
}
