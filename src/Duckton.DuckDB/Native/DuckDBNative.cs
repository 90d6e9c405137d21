using System.Runtime.InteropServices;

namespace Duckton.DuckDB.Native;

/// <summary>
/// The process-wide DuckDB API table. Every call into DuckDB goes through <see cref="Api"/>, which is filled once:
/// by the extension loader (<see cref="InitializeFromExtensionApi"/>) or from libduckdb's exports
/// (<see cref="InitializeFromLibrary"/>). The CLI, the tests and the loadable extension therefore run the same code.
/// </summary>
public static unsafe partial class DuckDBNative
{
    private static readonly Lock s_gate = new();
    private static DuckDBApi* s_api;

    /// <summary>The filled table. Throws if neither initializer has run.</summary>
    public static DuckDBApi* Api
    {
        get
        {
            var api = s_api;
            return api != null ? api : throw new InvalidOperationException("the DuckDB API table is not initialised: load libduckdb or run inside the extension");
        }
    }

    public static bool IsInitialized => s_api != null;

    /// <summary>How the table was filled, for diagnostics (<c>extension</c> or the library path).</summary>
    public static string Source { get; private set; } = "none";

    /// <summary>
    /// Copies the table the extension loader hands over. The loader's pointer refers to a stack-local of DuckDB's
    /// loader, so it must be copied before init returns.
    /// </summary>
    public static void InitializeFromExtensionApi(void* loaderApi)
    {
        lock (s_gate)
        {
            if (s_api != null)
            {
                return;
            }
            var copy = (DuckDBApi*)NativeMemory.AllocZeroed((nuint)sizeof(DuckDBApi));
            Buffer.MemoryCopy(loaderApi, copy, sizeof(DuckDBApi), sizeof(DuckDBApi));
            Source = "extension";
            s_api = copy;
            FindStreamingInHostLibrary(copy);
        }
    }

    /// <summary>
    /// The extension's API table has no streaming results. A client that loads DuckDB as the shared library
    /// <c>libduckdb.so</c> (the Node client does) exports them, though: they are taken from it when the library is
    /// already loaded (nothing is loaded here) and is the very copy of DuckDB the loader's table points into (the same
    /// address for <c>duckdb_library_version</c>); a client with DuckDB linked in (the DuckDB shell) keeps materialised results.
    /// </summary>
    private static void FindStreamingInHostLibrary(DuckDBApi* api)
    {
        nint handle;
        try
        {
            handle = dlopen("libduckdb.so", RtldLazy | RtldNoLoad);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return;
        }
        if (handle == 0)
        {
            return;
        }
        try
        {
            if (NativeLibrary.TryGetExport(handle, "duckdb_library_version", out var version) && version == (nint)api->duckdb_library_version
                && NativeLibrary.TryGetExport(handle, "duckdb_execute_prepared_streaming", out var streaming)
                && NativeLibrary.TryGetExport(handle, "duckdb_result_is_streaming", out var isStreaming))
            {
                s_executePreparedStreaming = (delegate* unmanaged[Cdecl]<nint, DuckDBResult*, int>)streaming;
                s_resultIsStreaming = (delegate* unmanaged[Cdecl]<DuckDBResult, byte>)isStreaming;
                Source = "extension (streaming results from the client's libduckdb.so)";
            }
        }
        finally
        {
            _ = dlclose(handle); // balances this lookup's reference; the client still holds the library
        }
    }

    private const int RtldLazy = 0x1;
    private const int RtldNoLoad = 0x4;

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint dlopen(string file, int mode);

    [LibraryImport("libc", EntryPoint = "dlclose")]
    private static partial int dlclose(nint handle);

    /// <summary>
    /// Fills the table from libduckdb's exported symbols. Without a path, libduckdb.so is looked up next to this
    /// assembly (where the build copies it), then by the platform's usual search.
    /// </summary>
    public static void InitializeFromLibrary(string? libraryPath = null)
    {
        lock (s_gate)
        {
            if (s_api != null)
            {
                return;
            }
            var handle = LoadLibrary(libraryPath, out var loadedFrom);
            var copy = (DuckDBApi*)NativeMemory.AllocZeroed((nuint)sizeof(DuckDBApi));
            var slots = (nint*)copy;
            var names = DuckDBApi.SlotNames;
            var missing = new List<string>();
            for (var i = 0; i < names.Length; i++)
            {
                if (NativeLibrary.TryGetExport(handle, names[i], out var address))
                {
                    slots[i] = address;
                }
                else
                {
                    missing.Add(names[i]);
                }
            }
            // A handful of stable slots may be absent from a given build; the ones we call are checked here.
            foreach (var required in s_requiredExports)
            {
                if (missing.Contains(required))
                {
                    NativeMemory.Free(copy);
                    throw new DllNotFoundException($"{loadedFrom} does not export {required}; DuckDB >= 1.2 is required");
                }
            }
            // Not in the extension's API table: only a directly loaded library offers a streaming result.
            if (NativeLibrary.TryGetExport(handle, "duckdb_execute_prepared_streaming", out var streaming))
            {
                s_executePreparedStreaming = (delegate* unmanaged[Cdecl]<nint, DuckDBResult*, int>)streaming;
            }
            if (NativeLibrary.TryGetExport(handle, "duckdb_result_is_streaming", out var isStreaming))
            {
                s_resultIsStreaming = (delegate* unmanaged[Cdecl]<DuckDBResult, byte>)isStreaming;
            }
            Source = loadedFrom;
            s_api = copy;
        }
    }

    private static delegate* unmanaged[Cdecl]<nint, DuckDBResult*, int> s_executePreparedStreaming;
    private static delegate* unmanaged[Cdecl]<DuckDBResult, byte> s_resultIsStreaming;

    /// <summary>
    /// <c>duckdb_execute_prepared_streaming</c>, or null: the function is exported by libduckdb but is not part of the
    /// stable C extension API table, so inside the loadable extension it is absent and results are materialised.
    /// </summary>
    internal static delegate* unmanaged[Cdecl]<nint, DuckDBResult*, int> ExecutePreparedStreaming => s_executePreparedStreaming;

    /// <summary><c>duckdb_result_is_streaming</c>, or null (as <see cref="ExecutePreparedStreaming"/>).</summary>
    internal static delegate* unmanaged[Cdecl]<DuckDBResult, byte> ResultIsStreaming => s_resultIsStreaming;

    /// <summary>True when statements can produce streaming results (a directly loaded libduckdb).</summary>
    public static bool StreamingResults => s_executePreparedStreaming != null;

    private static readonly string[] s_requiredExports =
    [
        "duckdb_open_ext", "duckdb_connect", "duckdb_query", "duckdb_fetch_chunk", "duckdb_create_table_function",
        "duckdb_register_table_function", "duckdb_vector_assign_string_element_len", "duckdb_interrupt",
    ];

    private static nint LoadLibrary(string? libraryPath, out string loadedFrom)
    {
        if (libraryPath is not null)
        {
            loadedFrom = libraryPath;
            return NativeLibrary.Load(libraryPath);
        }
        var envPath = Environment.GetEnvironmentVariable("DUCKTON_LIBDUCKDB");
        if (!string.IsNullOrEmpty(envPath))
        {
            loadedFrom = envPath;
            return NativeLibrary.Load(envPath);
        }
        var candidate = Path.Combine(AppContext.BaseDirectory, "libduckdb.so");
        if (File.Exists(candidate))
        {
            loadedFrom = candidate;
            return NativeLibrary.Load(candidate);
        }
        loadedFrom = "libduckdb.so";
        return NativeLibrary.Load("libduckdb.so", typeof(DuckDBNative).Assembly, DllImportSearchPath.SafeDirectories);
    }

    /// <summary>DuckDB's library version, e.g. <c>v1.5.6</c>.</summary>
    public static string LibraryVersion => Utf8.ToManaged(Api->duckdb_library_version()) ?? "unknown";
}
