using System.Buffers.Binary;
using System.Text;

namespace Duckton.Core.Protocol;

/// <summary>A payload that breaks the job protocol's encoding or bounds.</summary>
public sealed class ProtocolException(string message) : Exception(message);

/// <summary>
/// Writes the job protocol's canonical encoding: little-endian fixed-width integers, <c>bytes</c> and <c>string</c>
/// as a u32 LE length then the bytes (strings UTF-8), lists as a u16 LE count then the items. The encoding of a
/// message is unique, so signed bytes are simply a domain string followed by the encoded body.
/// </summary>
internal sealed class ProtoWriter
{
    private byte[] _buffer;
    private int _length;

    public ProtoWriter(int capacity = 256) => _buffer = new byte[capacity];

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public ProtoWriter U8(byte v)
    {
        Grow(1)[0] = v;
        return this;
    }

    public ProtoWriter U16(ushort v)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Grow(2), v);
        return this;
    }

    public ProtoWriter U32(uint v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), v);
        return this;
    }

    public ProtoWriter U64(ulong v)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), v);
        return this;
    }

    /// <summary>Exactly <paramref name="size"/> raw bytes (no length prefix).</summary>
    public ProtoWriter Fixed(ReadOnlySpan<byte> bytes, int size)
    {
        if (bytes.Length != size)
        {
            throw new ArgumentException($"expected {size} bytes, got {bytes.Length}");
        }
        bytes.CopyTo(Grow(size));
        return this;
    }

    public ProtoWriter Bytes(ReadOnlySpan<byte> bytes)
    {
        U32((uint)bytes.Length);
        bytes.CopyTo(Grow(bytes.Length));
        return this;
    }

    public ProtoWriter String(string s)
    {
        var count = Encoding.UTF8.GetByteCount(s);
        U32((uint)count);
        Encoding.UTF8.GetBytes(s, Grow(count));
        return this;
    }

    public ProtoWriter Strings(IReadOnlyList<string> items)
    {
        if (items.Count > ushort.MaxValue)
        {
            throw new ArgumentException("too many list items");
        }
        U16((ushort)items.Count);
        foreach (var s in items)
        {
            String(s);
        }
        return this;
    }
}

/// <summary>Reads <see cref="ProtoWriter"/>'s encoding with bounds; every violation is a <see cref="ProtocolException"/>.</summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    public readonly int Position => _pos;
    public readonly int Remaining => _data.Length - _pos;

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count < 0 || count > _data.Length - _pos)
        {
            throw new ProtocolException($"truncated payload reading {what}");
        }
        var span = _data.Slice(_pos, count);
        _pos += count;
        return span;
    }

    public byte U8(string what) => Take(1, what)[0];
    public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public long I64Bounded(string what, long max)
    {
        var v = U64(what);
        if (v > (ulong)max)
        {
            throw new ProtocolException($"{what} {v} exceeds {max}");
        }
        return (long)v;
    }

    public ReadOnlySpan<byte> Fixed(int size, string what) => Take(size, what);

    public ReadOnlySpan<byte> Bytes(int max, string what)
    {
        var len = U32(what);
        if (len > (uint)max)
        {
            throw new ProtocolException($"{what} of {len} bytes exceeds the {max}-byte limit");
        }
        return Take((int)len, what);
    }

    public string String(int maxBytes, string what)
    {
        var bytes = Bytes(maxBytes, what);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ProtocolException($"{what} is not valid UTF-8");
        }
    }

    public string[] Strings(int maxCount, int maxBytes, string what)
    {
        var n = U16(what);
        if (n > maxCount)
        {
            throw new ProtocolException($"{what} has {n} items, more than {maxCount}");
        }
        var items = new string[n];
        for (var i = 0; i < n; i++)
        {
            items[i] = String(maxBytes, what);
        }
        return items;
    }

    public readonly void End(string message)
    {
        if (_pos != _data.Length)
        {
            throw new ProtocolException($"{message}: {_data.Length - _pos} unexpected trailing bytes");
        }
    }
}
