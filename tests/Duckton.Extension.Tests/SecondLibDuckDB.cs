using System.Runtime.InteropServices;
using Duckton.DuckDB.Native;

namespace Duckton.Extension.Tests;

/// <summary>
/// A second, separately loaded copy of libduckdb in this process (as a process hosting two DuckDB clients would have),
/// driven through its own exports: one in-memory database with allow_unsigned_extensions and one connection.
/// </summary>
internal sealed unsafe class SecondLibDuckDB : IDisposable
{
    private readonly string _directory;
    private readonly delegate* unmanaged[Cdecl]<nint, byte*, DuckDBResult*, int> _query;
    private readonly delegate* unmanaged[Cdecl]<DuckDBResult*, byte*> _resultError;
    private readonly delegate* unmanaged[Cdecl]<DuckDBResult*, void> _destroyResult;
    private readonly delegate* unmanaged[Cdecl]<nint*, void> _disconnect;
    private readonly delegate* unmanaged[Cdecl]<nint*, void> _close;
    private nint _database;
    private nint _connection;

    public SecondLibDuckDB(string libduckdb)
    {
        _directory = Directory.CreateTempSubdirectory("duckton-second-libduckdb-").FullName;
        var copy = Path.Combine(_directory, "libduckdb-copy.so");
        File.Copy(libduckdb, copy);
        var lib = NativeLibrary.Load(copy);
        var createConfig = (delegate* unmanaged[Cdecl]<nint*, int>)NativeLibrary.GetExport(lib, "duckdb_create_config");
        var setConfig = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, int>)NativeLibrary.GetExport(lib, "duckdb_set_config");
        var destroyConfig = (delegate* unmanaged[Cdecl]<nint*, void>)NativeLibrary.GetExport(lib, "duckdb_destroy_config");
        var openExt = (delegate* unmanaged[Cdecl]<byte*, nint*, nint, byte**, int>)NativeLibrary.GetExport(lib, "duckdb_open_ext");
        var connect = (delegate* unmanaged[Cdecl]<nint, nint*, int>)NativeLibrary.GetExport(lib, "duckdb_connect");
        _query = (delegate* unmanaged[Cdecl]<nint, byte*, DuckDBResult*, int>)NativeLibrary.GetExport(lib, "duckdb_query");
        _resultError = (delegate* unmanaged[Cdecl]<DuckDBResult*, byte*>)NativeLibrary.GetExport(lib, "duckdb_result_error");
        _destroyResult = (delegate* unmanaged[Cdecl]<DuckDBResult*, void>)NativeLibrary.GetExport(lib, "duckdb_destroy_result");
        _disconnect = (delegate* unmanaged[Cdecl]<nint*, void>)NativeLibrary.GetExport(lib, "duckdb_disconnect");
        _close = (delegate* unmanaged[Cdecl]<nint*, void>)NativeLibrary.GetExport(lib, "duckdb_close");

        nint config = 0;
        Assert.Equal(DuckDBState.Success, createConfig(&config));
        fixed (byte* name = "allow_unsigned_extensions\0"u8)
        fixed (byte* value = "true\0"u8)
        {
            Assert.Equal(DuckDBState.Success, setConfig(config, name, value));
        }
        nint database = 0;
        byte* error = null;
        fixed (byte* path = ":memory:\0"u8)
        {
            Assert.Equal(DuckDBState.Success, openExt(path, &database, config, &error));
        }
        destroyConfig(&config);
        _database = database;
        nint connection = 0;
        Assert.Equal(DuckDBState.Success, connect(_database, &connection));
        _connection = connection;
    }

    /// <summary>Runs SQL; returns null on success, else DuckDB's error message.</summary>
    public string? Execute(string sql)
    {
        var result = default(DuckDBResult);
        using var text = new Utf8.Scoped(sql);
        var state = _query(_connection, text.Pointer, &result);
        var message = state == DuckDBState.Success ? null : Utf8.ToManaged(_resultError(&result)) ?? "unknown error";
        _destroyResult(&result);
        return message;
    }

    public void Dispose()
    {
        var c = _connection;
        _disconnect(&c);
        var d = _database;
        _close(&d);
        // The library itself stays loaded (DuckDB cannot be unloaded safely); only the copied file goes.
        Directory.Delete(_directory, recursive: true);
    }
}
