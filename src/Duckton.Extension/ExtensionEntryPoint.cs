using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

[assembly: DisableRuntimeMarshalling]

namespace Duckton.Extension;

/// <summary>The symbol DuckDB looks up in <c>duckton.duckdb_extension</c>: <c>&lt;file base name&gt;_init_c_api</c>.</summary>
public static unsafe class ExtensionEntryPoint
{
    /// <summary>
    /// <c>bool duckton_init_c_api(duckdb_extension_info info, duckdb_extension_access *access)</c>.
    /// Keep this a one-line forwarder: NativeAOT starts its runtime inside the prolog of the first export called,
    /// and that start re-randomises the stack-protector cookie. Any stack buffer here would give this frame a
    /// cookie that no longer matches at its epilogue, and the host process would be aborted.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "duckton_init_c_api", CallConvs = [typeof(CallConvCdecl)])]
    public static byte Init(nint info, DuckDBExtensionAccess* access) => ExtensionLoader.Load(info, access);
}
