using System.Numerics;
using Duckton.Ton.Addresses;

namespace Duckton.Ton.Cells;

/// <summary>Builds one cell bit by bit (TL-B order, big-endian integers). Throws when a cell's 1023 bits or 4 references would overflow.</summary>
public sealed class CellBuilder
{
    private readonly byte[] _bits = new byte[(Cell.MaxBits + 7) / 8];
    private readonly List<Cell> _refs = new(Cell.MaxRefs);

    public int BitLength { get; private set; }

    public int RefCount => _refs.Count;

    public int AvailableBits => Cell.MaxBits - BitLength;

    public int AvailableRefs => Cell.MaxRefs - _refs.Count;

    public static CellBuilder Begin() => new();

    public CellBuilder StoreBit(bool bit)
    {
        EnsureBits(1);
        if (bit)
        {
            _bits[BitLength >> 3] |= (byte)(0x80 >> (BitLength & 7));
        }
        BitLength++;
        return this;
    }

    public CellBuilder StoreBits(ReadOnlySpan<byte> data, int bitCount)
    {
        if (bitCount < 0 || bitCount > data.Length * 8)
        {
            throw new ArgumentOutOfRangeException(nameof(bitCount));
        }
        EnsureBits(bitCount);
        if ((BitLength & 7) == 0)
        {
            // Aligned: copy whole bytes, then mask the tail.
            var whole = bitCount / 8;
            data[..whole].CopyTo(_bits.AsSpan(BitLength >> 3));
            BitLength += whole * 8;
            for (var i = whole * 8; i < bitCount; i++)
            {
                StoreBit((data[i >> 3] & (0x80 >> (i & 7))) != 0);
            }
            return this;
        }
        for (var i = 0; i < bitCount; i++)
        {
            StoreBit((data[i >> 3] & (0x80 >> (i & 7))) != 0);
        }
        return this;
    }

    public CellBuilder StoreBytes(ReadOnlySpan<byte> bytes) => StoreBits(bytes, bytes.Length * 8);

    public CellBuilder StoreUInt(ulong value, int bits)
    {
        if (bits is < 0 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), "use StoreBigUInt for more than 64 bits");
        }
        if (bits < 64 && value >> bits != 0)
        {
            throw new TonFormatException($"value {value} does not fit in {bits} unsigned bits");
        }
        EnsureBits(bits);
        for (var i = bits - 1; i >= 0; i--)
        {
            StoreBit(((value >> i) & 1) != 0);
        }
        return this;
    }

    public CellBuilder StoreInt(long value, int bits)
    {
        if (bits is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), "use StoreBigInt for more than 64 bits");
        }
        if (bits < 64)
        {
            var min = -(1L << (bits - 1));
            var max = (1L << (bits - 1)) - 1;
            if (value < min || value > max)
            {
                throw new TonFormatException($"value {value} does not fit in {bits} signed bits");
            }
        }
        var raw = bits == 64 ? unchecked((ulong)value) : unchecked((ulong)value) & ((1UL << bits) - 1);
        return StoreUInt(raw, bits);
    }

    public CellBuilder StoreBigUInt(BigInteger value, int bits)
    {
        if (value.Sign < 0 || (value.IsZero ? 0 : (int)value.GetBitLength()) > bits)
        {
            throw new TonFormatException($"value does not fit in {bits} unsigned bits");
        }
        return StoreTwoComplement(value, bits);
    }

    public CellBuilder StoreBigInt(BigInteger value, int bits)
    {
        if (bits < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(bits));
        }
        var limit = BigInteger.One << (bits - 1);
        if (value < -limit || value >= limit)
        {
            throw new TonFormatException($"value does not fit in {bits} signed bits");
        }
        return StoreTwoComplement(value < 0 ? value + (limit << 1) : value, bits);
    }

    private CellBuilder StoreTwoComplement(BigInteger nonNegative, int bits)
    {
        EnsureBits(bits);
        for (var i = bits - 1; i >= 0; i--)
        {
            StoreBit(!(nonNegative >> i).IsEven);
        }
        return this;
    }

    /// <summary>VarUInteger 16 (TL-B <c>Coins</c>): a 4-bit byte count, then the amount big-endian.</summary>
    public CellBuilder StoreCoins(Coins amount)
    {
        var value = amount.Nanoton;
        var len = 0;
        for (var v = value; v != 0; v >>= 8)
        {
            len++;
        }
        StoreUInt((ulong)len, 4);
        for (var i = len - 1; i >= 0; i--)
        {
            StoreUInt((ulong)(byte)(value >> (i * 8)), 8);
        }
        return this;
    }

    /// <summary><c>MsgAddressInt</c> (addr_std, no anycast), or <c>addr_none</c> (two zero bits) for null.</summary>
    public CellBuilder StoreAddress(TonAddress? address)
    {
        if (address is null)
        {
            return StoreUInt(0, 2);
        }
        EnsureBits(267);
        StoreUInt(0b100, 3);
        StoreInt(address.Workchain, 8);
        return StoreBytes(address.Hash);
    }

    public CellBuilder StoreRef(Cell cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        if (_refs.Count >= Cell.MaxRefs)
        {
            throw new TonFormatException($"a cell holds at most {Cell.MaxRefs} references");
        }
        _refs.Add(cell);
        return this;
    }

    /// <summary><c>Maybe ^X</c>: one bit, then the reference when present.</summary>
    public CellBuilder StoreMaybeRef(Cell? cell)
    {
        StoreBit(cell is not null);
        return cell is null ? this : StoreRef(cell);
    }

    /// <summary>Appends the bits and references of a whole cell (inline, not as a reference).</summary>
    public CellBuilder StoreCellInline(Cell cell)
    {
        if (cell.Refs.Count > AvailableRefs)
        {
            throw new TonFormatException($"a cell holds at most {Cell.MaxRefs} references");
        }
        StoreBits(cell.Data, cell.BitLength);
        foreach (var r in cell.Refs)
        {
            StoreRef(r);
        }
        return this;
    }

    public CellBuilder StoreBuilder(CellBuilder other) => StoreCellInline(other.EndCell());

    public CellBuilder StoreSlice(CellSlice slice)
    {
        var bits = slice.RemainingBits;
        var data = slice.PreloadBits(bits);
        StoreBits(data, bits);
        var refs = slice.RemainingRefs;
        for (var i = 0; i < refs; i++)
        {
            StoreRef(slice.PreloadRef(i));
        }
        return this;
    }

    public Cell EndCell()
    {
        var data = _bits.AsSpan(0, (BitLength + 7) / 8).ToArray();
        return new Cell(data, BitLength, [.. _refs]);
    }

    private void EnsureBits(int count)
    {
        if (count > AvailableBits)
        {
            throw new TonFormatException($"cell overflow: {BitLength} + {count} bits exceeds {Cell.MaxBits}");
        }
    }
}
