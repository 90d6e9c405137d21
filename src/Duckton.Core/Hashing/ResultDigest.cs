using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Duckton.Core.Hashing;

/// <summary>A 32-byte canonical result hash; <see cref="ToString"/> is its 64-character lowercase hex form.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct ResultDigest : IEquatable<ResultDigest>
{
    /// <summary>Digest length in bytes.</summary>
    public const int Size = 32;

    // The 32 bytes in order, as four machine words (compared and copied as bytes, never as numbers).
    private readonly ulong _w0, _w1, _w2, _w3;

    /// <summary>Wraps exactly 32 bytes.</summary>
    public ResultDigest(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a result digest is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }
        _w0 = MemoryMarshal.Read<ulong>(bytes);
        _w1 = MemoryMarshal.Read<ulong>(bytes[8..]);
        _w2 = MemoryMarshal.Read<ulong>(bytes[16..]);
        _w3 = MemoryMarshal.Read<ulong>(bytes[24..]);
    }

    /// <summary>Copies the 32 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"destination needs {Size} bytes", nameof(destination));
        }
        MemoryMarshal.Write(destination, in _w0);
        MemoryMarshal.Write(destination[8..], in _w1);
        MemoryMarshal.Write(destination[16..], in _w2);
        MemoryMarshal.Write(destination[24..], in _w3);
    }

    /// <summary>The 32 bytes as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Lowercase hex, 64 characters, no prefix.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>Parses 64 hex characters (either case).</summary>
    public static ResultDigest Parse(string hex) =>
        TryParse(hex, out var digest) ? digest : throw new FormatException($"a result digest is {2 * Size} hex characters");

    public static bool TryParse([NotNullWhen(true)] string? hex, out ResultDigest digest)
    {
        digest = default;
        if (hex is null || hex.Length != 2 * Size)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }
        digest = new ResultDigest(bytes);
        return true;
    }

    public bool Equals(ResultDigest other) => _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals(object? obj) => obj is ResultDigest other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_w0, _w1, _w2, _w3);

    public static bool operator ==(ResultDigest left, ResultDigest right) => left.Equals(right);

    public static bool operator !=(ResultDigest left, ResultDigest right) => !left.Equals(right);
}
