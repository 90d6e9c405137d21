using System.Numerics;
using Duckton.Ton.Addresses;

namespace Duckton.Ton.Cells;

/// <summary>Reads a cell front to back. Reading past the end throws <see cref="TonFormatException"/> naming what was missing.</summary>
public sealed class CellSlice
{
    private readonly Cell _cell;
    private int _bit;
    private int _ref;

    internal CellSlice(Cell cell) => _cell = cell;

    public int RemainingBits => _cell.BitLength - _bit;

    public int RemainingRefs => _cell.Refs.Count - _ref;

    public bool LoadBit()
    {
        Need(1, "bit");
        var b = (_cell.Data[_bit >> 3] & (0x80 >> (_bit & 7))) != 0;
        _bit++;
        return b;
    }

    public ulong LoadUInt(int bits)
    {
        if (bits is < 0 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(bits));
        }
        Need(bits, $"uint{bits}");
        ulong v = 0;
        for (var i = 0; i < bits; i++)
        {
            v = (v << 1) | (LoadBit() ? 1UL : 0UL);
        }
        return v;
    }

    public long LoadInt(int bits)
    {
        if (bits is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(bits));
        }
        var raw = LoadUInt(bits);
        if (bits == 64)
        {
            return unchecked((long)raw);
        }
        var sign = 1UL << (bits - 1);
        return (raw & sign) != 0 ? unchecked((long)(raw | ~((sign << 1) - 1))) : (long)raw;
    }

    public BigInteger LoadBigUInt(int bits)
    {
        Need(bits, $"uint{bits}");
        var v = BigInteger.Zero;
        for (var i = 0; i < bits; i++)
        {
            v = (v << 1) | (LoadBit() ? BigInteger.One : BigInteger.Zero);
        }
        return v;
    }

    public BigInteger LoadBigInt(int bits)
    {
        var raw = LoadBigUInt(bits);
        var limit = BigInteger.One << (bits - 1);
        return raw >= limit ? raw - (limit << 1) : raw;
    }

    public byte[] LoadBytes(int count)
    {
        var bytes = PreloadBits(count * 8);
        _bit += count * 8;
        return bytes;
    }

    /// <summary>The next <paramref name="bits"/> bits, left-aligned, without consuming them.</summary>
    public byte[] PreloadBits(int bits)
    {
        Need(bits, $"{bits} bits");
        var result = new byte[(bits + 7) / 8];
        for (var i = 0; i < bits; i++)
        {
            var at = _bit + i;
            if ((_cell.Data[at >> 3] & (0x80 >> (at & 7))) != 0)
            {
                result[i >> 3] |= (byte)(0x80 >> (i & 7));
            }
        }
        return result;
    }

    public Coins LoadCoins()
    {
        var len = (int)LoadUInt(4);
        UInt128 v = 0;
        for (var i = 0; i < len; i++)
        {
            v = (v << 8) | (byte)LoadUInt(8);
        }
        return Coins.FromNanoton(v);
    }

    /// <summary><c>MsgAddress</c>: an addr_std, or null for addr_none. Anycast, addr_var and external addresses are refused.</summary>
    public TonAddress? LoadAddress()
    {
        var tag = LoadUInt(2);
        switch (tag)
        {
            case 0b00:
                return null;
            case 0b10:
                if (LoadBit())
                {
                    throw new TonFormatException("anycast addresses are not supported");
                }
                var wc = (int)LoadInt(8);
                return new TonAddress(wc, LoadBytes(32));
            default:
                throw new TonFormatException($"unsupported address kind (tag {tag}); only addr_std and addr_none are read");
        }
    }

    public Cell LoadRef()
    {
        if (RemainingRefs < 1)
        {
            throw new TonFormatException("cell underflow: expected a reference, none left");
        }
        return _cell.Refs[_ref++];
    }

    public Cell? LoadMaybeRef() => LoadBit() ? LoadRef() : null;

    internal Cell PreloadRef(int offset) => _cell.Refs[_ref + offset];

    /// <summary>Throws unless everything was read (a TL-B value with trailing data is malformed).</summary>
    public void EndParse()
    {
        if (RemainingBits != 0 || RemainingRefs != 0)
        {
            throw new TonFormatException($"unexpected trailing data: {RemainingBits} bits and {RemainingRefs} references left");
        }
    }

    private void Need(int bits, string what)
    {
        if (bits > RemainingBits)
        {
            throw new TonFormatException($"cell underflow: expected {what}, only {RemainingBits} bits left");
        }
    }
}
