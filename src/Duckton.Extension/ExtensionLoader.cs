using System.Runtime.CompilerServices;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Node;
using Duckton.Sql;

namespace Duckton.Extension;

/// <summary>
/// Loads the extension into one database: takes DuckDB's API table, then registers every <c>p2p_*</c> function
/// through a short-lived connection. Runs once per database that loads the file; the API table and the node are
/// shared by all of them (one process, one node).
/// </summary>
internal static unsafe class ExtensionLoader
{
    /// <summary>The stable C API the extension is written against (and stamped in its footer).</summary>
    private static ReadOnlySpan<byte> CApiVersion => "v1.2.0\0"u8;

    /// <summary>
    /// Set to <c>1</c> in a host process's environment to make init fail after DuckDB handed over the database: the
    /// tests use it to check that a failing init becomes a LOAD error and the host lives on.
    /// </summary>
    internal const string FailInitVariable = "DUCKTON_EXTENSION_FAIL_INIT";

    /// <summary>The process's node, created on the first query that needs it, with the CLI's config directory.</summary>
    private static readonly NodeHost s_host = new(ConfigDirectory.Resolve(null));

    /// <summary>Returns 1 on success, 0 after recording the error with DuckDB. Never throws.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static byte Load(nint info, DuckDBExtensionAccess* access)
    {
        try
        {
            void* api;
            fixed (byte* version = CApiVersion)
            {
                api = access->GetApi(info, version);
            }
            if (api == null)
            {
                // DuckDB has recorded why (an unsupported C API version).
                return 0;
            }
            DuckDBNative.InitializeFromExtensionApi(api);
            if (!IsSameLibrary((DuckDBApi*)api))
            {
                // The .so is loaded once per process, so its API table is too: a database of a second copy of
                // libduckdb in the same process would be driven by the first copy's code.
                throw new InvalidOperationException(
                    "this process already runs duckton with another copy of the DuckDB library; a process can load the extension into databases of one DuckDB library only");
            }
            var database = access->GetDatabase(info);
            if (database == null)
            {
                // DuckDB has recorded why.
                return 0;
            }
            if (Environment.GetEnvironmentVariable(FailInitVariable) == "1")
            {
                throw new InvalidOperationException($"init failed on purpose ({FailInitVariable}=1 is set)");
            }
            Register(*database);
            return 1;
        }
        catch (Exception e)
        {
            ReportError(info, access, e);
            return 0;
        }
    }

    private static bool IsSameLibrary(DuckDBApi* api) =>
        (nint)api->duckdb_connect == (nint)DuckDBNative.Api->duckdb_connect
        && (nint)api->duckdb_register_table_function == (nint)DuckDBNative.Api->duckdb_register_table_function;

    private static void Register(nint database)
    {
        using var db = DuckDBDatabase.Borrow(database);
        using var connection = db.Connect();
        SqlSurface.Register(connection.Value, s_host);
    }

    private static void ReportError(nint info, DuckDBExtensionAccess* access, Exception e)
    {
        try
        {
            var message = e is DuckDBException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            using var text = new Utf8.Scoped($"duckton could not register its functions: {message}");
            access->SetError(info, text.Pointer);
        }
        catch
        {
            // Out of memory while reporting: returning false still fails the LOAD.
        }
    }
}
