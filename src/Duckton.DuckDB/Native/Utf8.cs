using System.Runtime.InteropServices;
using System.Text;

namespace Duckton.DuckDB.Native;

/// <summary>UTF-8 C strings in both directions.</summary>
public static unsafe class Utf8
{
    public static string? ToManaged(byte* s) => s == null ? null : Marshal.PtrToStringUTF8((nint)s);

    /// <summary>A NUL-terminated UTF-8 copy in native memory; free it with <see cref="Free"/>.</summary>
    public static byte* ToNative(string s)
    {
        var max = Encoding.UTF8.GetMaxByteCount(s.Length) + 1;
        var p = (byte*)NativeMemory.Alloc((nuint)max);
        var n = Encoding.UTF8.GetBytes(s, new Span<byte>(p, max - 1));
        p[n] = 0;
        return p;
    }

    public static void Free(byte* p) => NativeMemory.Free(p);

    /// <summary>A scoped native copy of a string, for passing to a C API call.</summary>
    public readonly ref struct Scoped
    {
        public Scoped(string s) => Pointer = ToNative(s);
        public byte* Pointer { get; }
        public void Dispose() => Free(Pointer);
    }
}
