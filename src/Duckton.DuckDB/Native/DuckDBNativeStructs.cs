using System.Runtime.InteropServices;

#pragma warning disable CA1051, CA1815 // plain C structs mirror the C API
namespace Duckton.DuckDB.Native;

/// <summary><c>duckdb_string_t</c>: length, then either 12 inlined bytes or a 4-byte prefix and a pointer.</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
public struct DuckDBStringT
{
    public uint Length;
    public uint Prefix;
    public nint Pointer;

    /// <summary>Strings of up to 12 bytes are stored inside the struct.</summary>
    public const int InlineLength = 12;
}

/// <summary><c>duckdb_result</c> (48 bytes), passed by value to <c>duckdb_fetch_chunk</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DuckDBResult
{
    public ulong DeprecatedColumnCount;
    public ulong DeprecatedRowCount;
    public ulong DeprecatedRowsChanged;
    public nint DeprecatedColumns;
    public nint DeprecatedErrorMessage;
    public nint InternalData;
}

[StructLayout(LayoutKind.Sequential)]
public struct DuckDBHugeInt
{
    public ulong Lower;
    public long Upper;
}

[StructLayout(LayoutKind.Sequential)]
public struct DuckDBUHugeInt
{
    public ulong Lower;
    public ulong Upper;
}

[StructLayout(LayoutKind.Sequential)]
public struct DuckDBInterval
{
    public int Months;
    public int Days;
    public long Micros;
}

[StructLayout(LayoutKind.Sequential)]
public struct DuckDBDecimal
{
    public byte Width;
    public byte Scale;
    public DuckDBHugeInt Value;
}

[StructLayout(LayoutKind.Sequential)]
public struct DuckDBBlob
{
    public nint Data;
    public ulong Size;
}

[StructLayout(LayoutKind.Sequential)]
public struct DuckDBQueryProgress
{
    public double Percentage;
    public ulong RowsProcessed;
    public ulong TotalRowsToProcess;
}

/// <summary><c>duckdb_list_entry</c>: where a LIST row's elements sit in the child vector.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DuckDBListEntry
{
    public ulong Offset;
    public ulong Length;
}

/// <summary>Return codes of the C API.</summary>
public static class DuckDBState
{
    public const int Success = 0;
    public const int Error = 1;
}
