using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Duckton.Transport;

/// <summary>
/// Builds a payload in the shared encoding (see <see cref="PayloadReader"/>): little-endian fixed-width integers,
/// u32-length-prefixed bytes and UTF-8 strings. A value over its cap is refused here, before it reaches the wire.
/// </summary>
internal sealed class PayloadWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public PayloadWriter(int initialCapacity = 256)
    {
        _buffer = new ArrayBufferWriter<byte>(Math.Max(16, initialCapacity));
    }

    /// <summary>The bytes written so far (valid until the next write).</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public int Length => _buffer.WrittenCount;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public PayloadWriter WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
        return this;
    }

    public PayloadWriter WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
        return this;
    }

    public PayloadWriter WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    public PayloadWriter WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
        return this;
    }

    public PayloadWriter WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
        return this;
    }

    public PayloadWriter WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    /// <summary>Bytes as they are, no length prefix.</summary>
    public PayloadWriter WriteFixed(ReadOnlySpan<byte> value)
    {
        _buffer.Write(value);
        return this;
    }

    /// <summary>A u32 LE length and the bytes.</summary>
    /// <exception cref="ArgumentException">More than <paramref name="maxBytes"/> bytes.</exception>
    public PayloadWriter WriteBytes(ReadOnlySpan<byte> value, int maxBytes, string field)
    {
        if (value.Length > maxBytes)
        {
            throw new ArgumentException($"{field}: {value.Length} bytes exceeds the cap of {maxBytes}", nameof(value));
        }
        WriteUInt32((uint)value.Length);
        _buffer.Write(value);
        return this;
    }

    /// <summary>A u32 LE byte length and the UTF-8 bytes.</summary>
    /// <exception cref="ArgumentException">More than <paramref name="maxBytes"/> UTF-8 bytes.</exception>
    public PayloadWriter WriteString(string value, int maxBytes, string field)
    {
        ArgumentNullException.ThrowIfNull(value);
        var length = Encoding.UTF8.GetByteCount(value);
        if (length > maxBytes)
        {
            throw new ArgumentException($"{field}: {length} UTF-8 bytes exceeds the cap of {maxBytes}", nameof(value));
        }
        WriteUInt32((uint)length);
        var written = Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(written);
        return this;
    }

    /// <summary>A presence byte (0/1) and, when present, the string.</summary>
    public PayloadWriter WriteOptionalString(string? value, int maxBytes, string field)
    {
        WriteBoolean(value is not null);
        return value is null ? this : WriteString(value, maxBytes, field);
    }
}
