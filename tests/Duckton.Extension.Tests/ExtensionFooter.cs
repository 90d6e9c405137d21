using System.Text;

namespace Duckton.Extension.Tests;

/// <summary>
/// DuckDB's extension metadata: the last 512 bytes of the file are eight 32-byte NUL-padded fields stored last field
/// first, then a 256-byte signature. Field 1 is the magic "4", 2 the platform, 3 the C API version, 4 the extension
/// version, 5 the ABI type.
/// </summary>
internal static class ExtensionFooter
{
    public const int Size = 512;
    public const int FieldSize = 32;
    public const int SignatureSize = 256;

    /// <summary>The 22-byte WebAssembly custom-section header DuckDB's build puts before the footer.</summary>
    public static readonly byte[] SectionHeader = [0x00, 0x93, 0x04, 0x10, .. "duckdb_signature"u8, 0x80, 0x04];

    private static int FieldOffset(int field) => (8 - field) * FieldSize;

    public static string ReadField(byte[] file, int field)
    {
        var bytes = file.AsSpan(file.Length - Size + FieldOffset(field), FieldSize);
        var end = bytes.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? bytes : bytes[..end]);
    }

    public static void WriteField(byte[] file, int field, string value)
    {
        var bytes = file.AsSpan(file.Length - Size + FieldOffset(field), FieldSize);
        bytes.Clear();
        Encoding.ASCII.GetBytes(value, bytes);
    }
}
