using System.Runtime.InteropServices;

#pragma warning disable CA1051 // a plain C struct mirrors the C API
namespace Duckton.Extension;

/// <summary>
/// <c>duckdb_extension_access</c> from <c>duckdb_extension.h</c>: what DuckDB's loader hands the init function.
/// <c>info</c> is the opaque <c>duckdb_extension_info</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct DuckDBExtensionAccess
{
    /// <summary><c>void set_error(info, const char *error)</c>: DuckDB copies the message.</summary>
    public delegate* unmanaged[Cdecl]<nint, byte*, void> SetError;

    /// <summary><c>duckdb_database *get_database(info)</c>: the database loading us, owned by DuckDB; null on failure (error recorded).</summary>
    public delegate* unmanaged[Cdecl]<nint, nint*> GetDatabase;

    /// <summary><c>const void *get_api(info, const char *version)</c>: the API struct, or null with the error recorded by DuckDB.</summary>
    public delegate* unmanaged[Cdecl]<nint, byte*, void*> GetApi;
}
