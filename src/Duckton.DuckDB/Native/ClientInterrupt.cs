using System.Globalization;
using System.Runtime.InteropServices;

namespace Duckton.DuckDB.Native;

/// <summary>
/// Reads DuckDB's interrupt flag of the connection whose statement is binding a table function.
/// </summary>
/// <remarks>
/// <para>Why this exists: <c>duckdb_interrupt</c> (the shell's Ctrl-C, Node's <c>DuckDBConnection.interrupt()</c>, every other
/// client's cancel) only sets <c>ClientContext::interrupted</c>. DuckDB itself polls that flag between pipeline chunks and
/// optimizer passes; the C API has no call that lets a callback read it, and a callback that blocks (a <c>p2p_query</c>
/// runs its whole query during bind) never gives DuckDB a chance to poll.</para>
/// <para>How: the bind info yields the statement's client-context handle through DuckDB's public C function
/// <c>duckdb_table_function_get_client_context</c>; that handle (DuckDB's <c>CClientContextWrapper</c>) holds exactly one
/// member, a reference to the <c>ClientContext</c>; and <c>ClientContext::IsInterrupted() const</c> is an exported
/// C++ function (<c>DUCKDB_API</c>) that reads the flag. All three are looked up by name in the module that implements
/// the API table we were given (found with <c>dladdr</c>), so the same code works in the CLI (the libduckdb.so it loads)
/// and in any client that loaded the extension (e.g. Node's libduckdb.so). The wrapper layout is DuckDB's, checked for
/// 1.2 – 1.5; on another version, or a DuckDB that does not export these symbols, <see cref="Available"/> is false and
/// binds are simply not interruptible (a query's <c>timeout_ms</c> still applies).</para>
/// </remarks>
public static unsafe class ClientInterrupt
{
    private static readonly Lazy<Functions?> s_functions = new(Resolve, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True when the interrupt flag can be read in this process.</summary>
    public static bool Available => s_functions.Value is not null;

    /// <summary>Why <see cref="Available"/> is false (or "available"), for diagnostics and tests.</summary>
    public static string Status { get; private set; } = "not resolved yet";

    /// <summary>
    /// A probe of the client context binding <paramref name="bindInfo"/> (a <c>duckdb_bind_info</c>), or null when the flag
    /// cannot be read here. The probe is valid only while that bind callback runs; dispose it before the callback returns.
    /// </summary>
    public static Probe? ForBind(nint bindInfo)
    {
        if (s_functions.Value is not { } f || bindInfo == 0)
        {
            return null;
        }
        nint wrapper = 0;
        f.GetContext(bindInfo, &wrapper);
        if (wrapper == 0)
        {
            return null;
        }
        var context = *(nint*)wrapper; // CClientContextWrapper { ClientContext &context; }
        if (context == 0)
        {
            f.Destroy(&wrapper);
            return null;
        }
        return new Probe(f, wrapper, context);
    }

    /// <summary>One bind's view of its connection's interrupt flag.</summary>
    public sealed class Probe : IDisposable
    {
        private readonly Functions _f;
        private nint _wrapper;
        private readonly nint _context;

        internal Probe(Functions f, nint wrapper, nint context)
        {
            _f = f;
            _wrapper = wrapper;
            _context = context;
        }

        /// <summary>Whether the client called <c>duckdb_interrupt</c> on the connection running this statement.</summary>
        public bool IsInterrupted
        {
            get
            {
                ObjectDisposedException.ThrowIf(_wrapper == 0, this);
                return _f.IsInterrupted(_context) != 0;
            }
        }

        public void Dispose()
        {
            if (_wrapper != 0)
            {
                var w = _wrapper;
                _wrapper = 0;
                _f.Destroy(&w);
            }
        }
    }

    internal sealed class Functions(
        delegate* unmanaged[Cdecl]<nint, nint*, void> getContext,
        delegate* unmanaged[Cdecl]<nint*, void> destroy,
        delegate* unmanaged[Cdecl]<nint, byte> isInterrupted)
    {
        public readonly delegate* unmanaged[Cdecl]<nint, nint*, void> GetContext = getContext;
        public readonly delegate* unmanaged[Cdecl]<nint*, void> Destroy = destroy;
        /// <summary><c>bool duckdb::ClientContext::IsInterrupted() const</c>: <c>this</c> is the first argument, bool in the low byte.</summary>
        public readonly delegate* unmanaged[Cdecl]<nint, byte> IsInterrupted = isInterrupted;
    }

    // Itanium C++ ABI (Linux, macOS) name of `bool duckdb::ClientContext::IsInterrupted() const`.
    private const string IsInterruptedSymbol = "_ZNK6duckdb13ClientContext13IsInterruptedEv";

    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public nint FileName;
        public nint FileBase;
        public nint SymbolName;
        public nint SymbolAddress;
    }

    private static Functions? Resolve()
    {
        try
        {
            if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            {
                Status = "not supported on this operating system";
                return null;
            }
            var version = DuckDBNative.LibraryVersion;
            if (!SupportedVersion(version))
            {
                Status = $"DuckDB {version} is not a version whose client-context layout is known (1.2 to 1.5)";
                return null;
            }
            foreach (var module in CandidateModules())
            {
                if (NativeLibrary.TryGetExport(module, "duckdb_table_function_get_client_context", out var get)
                    && NativeLibrary.TryGetExport(module, "duckdb_destroy_client_context", out var destroy)
                    && NativeLibrary.TryGetExport(module, IsInterruptedSymbol, out var isInterrupted))
                {
                    Status = "available";
                    return new Functions(
                        (delegate* unmanaged[Cdecl]<nint, nint*, void>)get,
                        (delegate* unmanaged[Cdecl]<nint*, void>)destroy,
                        (delegate* unmanaged[Cdecl]<nint, byte>)isInterrupted);
                }
            }
            Status = "this DuckDB does not export duckdb_table_function_get_client_context and ClientContext::IsInterrupted";
            return null;
        }
        catch (Exception e)
        {
            Status = "lookup failed: " + e.Message;
            return null;
        }
    }

    /// <summary>DuckDB 1.2 – 1.5 (the wrapper layout this code relies on is the same in all of them).</summary>
    internal static bool SupportedVersion(string version)
    {
        var parts = version.TrimStart('v').Split('.', '-');
        return parts.Length >= 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            && major == 1 && minor is >= 2 and <= 5;
    }

    /// <summary>The module holding the API table's code (via dladdr), then the main program (a statically linked DuckDB).</summary>
    private static List<nint> CandidateModules()
    {
        var modules = new List<nint>(2);
        var path = ModuleOf((nint)DuckDBNative.Api->duckdb_library_version);
        if (path is not null && NativeLibrary.TryLoad(path, out var module))
        {
            // dlopen of a loaded library returns it again (one more reference, never released: DuckDB outlives us anyway).
            modules.Add(module);
        }
        modules.Add(NativeLibrary.GetMainProgramHandle());
        return modules;
    }

    private static string? ModuleOf(nint address)
    {
        var libc = OperatingSystem.IsMacOS() ? "/usr/lib/libSystem.dylib" : "libc.so.6";
        if (!NativeLibrary.TryLoad(libc, out var handle) && !NativeLibrary.TryLoad("libdl.so.2", out handle))
        {
            return null;
        }
        if (!NativeLibrary.TryGetExport(handle, "dladdr", out var dladdrPtr))
        {
            return null;
        }
        var dladdr = (delegate* unmanaged[Cdecl]<nint, DlInfo*, int>)dladdrPtr;
        DlInfo info;
        if (dladdr(address, &info) == 0 || info.FileName == 0)
        {
            return null;
        }
        return Marshal.PtrToStringUTF8(info.FileName);
    }
}
