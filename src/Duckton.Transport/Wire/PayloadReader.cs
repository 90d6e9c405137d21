using System.Buffers.Binary;
using System.Text;

namespace Duckton.Transport;

/// <summary>
/// Reads the payload encoding shared by every message: little-endian fixed-width integers, and byte strings and UTF-8 strings
/// prefixed with their u32 LE length. Every variable-length read takes a cap; nothing is allocated from an unchecked length.
/// </summary>
/// <remarks>Every malformed input raises <see cref="PayloadFormatException"/> naming the field.</remarks>
internal ref struct PayloadReader
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public PayloadReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _data.Length - _position;

    public byte ReadByte(string field) => Take(1, field)[0];

    public ushort ReadUInt16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

    public uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

    public ulong ReadUInt64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    public long ReadInt64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, field));

    /// <summary>A boolean byte: 0 or 1, anything else is an error.</summary>
    public bool ReadBoolean(string field) => ReadByte(field) switch
    {
        0 => false,
        1 => true,
        var b => throw new PayloadFormatException($"{field}: expected a boolean byte 0 or 1, found {b}"),
    };

    /// <summary>Exactly <paramref name="length"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadFixed(int length, string field) => Take(length, field);

    /// <summary>A u32 LE length (at most <paramref name="maxBytes"/>) and that many bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int maxBytes, string field)
    {
        var length = ReadUInt32(field);
        if (length > (uint)maxBytes)
        {
            throw new PayloadFormatException($"{field}: {length} bytes exceeds the cap of {maxBytes}");
        }
        return Take((int)length, field);
    }

    /// <summary>A u32 LE byte length (at most <paramref name="maxBytes"/>) and that many bytes of strict UTF-8.</summary>
    public string ReadString(int maxBytes, string field)
    {
        var bytes = ReadBytes(maxBytes, field);
        try
        {
            return s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new PayloadFormatException($"{field}: not valid UTF-8");
        }
    }

    /// <summary>A presence byte (0 = absent, 1 = present) followed, when present, by a string.</summary>
    public string? ReadOptionalString(int maxBytes, string field) =>
        ReadBoolean(field) ? ReadString(maxBytes, field) : null;

    /// <summary>Fails unless every byte was read.</summary>
    public readonly void EnsureEnd(string message)
    {
        if (Remaining != 0)
        {
            throw new PayloadFormatException($"{message}: {Remaining} unexpected trailing bytes");
        }
    }

    private ReadOnlySpan<byte> Take(int length, string field)
    {
        if (length < 0 || length > Remaining)
        {
            throw new PayloadFormatException($"{field}: needs {length} bytes, only {Remaining} left");
        }
        var slice = _data.Slice(_position, length);
        _position += length;
        return slice;
    }
}
