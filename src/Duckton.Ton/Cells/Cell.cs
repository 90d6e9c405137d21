using System.Security.Cryptography;

namespace Duckton.Ton.Cells;

/// <summary>
/// An ordinary TON cell: up to 1023 data bits and up to 4 references. Immutable; its representation hash and depth are
/// computed once at construction. Exotic cells (pruned branches, library references, Merkle proofs/updates) are not
/// modelled: nothing this project sends or reads needs them, and a parser that accepted them without checking their
/// special rules would accept forged data.
/// </summary>
public sealed class Cell : IEquatable<Cell>
{
    public const int MaxBits = 1023;
    public const int MaxRefs = 4;

    /// <summary>TON's maximum cell depth (the virtual machine refuses deeper trees).</summary>
    public const int MaxDepth = 1024;

    private readonly byte[] _data;
    private readonly Cell[] _refs;
    private readonly byte[] _hash;

    /// <summary>The empty cell (no bits, no references).</summary>
    public static Cell Empty { get; } = new([], 0, []);

    internal Cell(byte[] data, int bitLength, Cell[] refs)
    {
        if (bitLength is < 0 or > MaxBits)
        {
            throw new TonFormatException($"a cell holds at most {MaxBits} bits, got {bitLength}");
        }
        if (refs.Length > MaxRefs)
        {
            throw new TonFormatException($"a cell holds at most {MaxRefs} references, got {refs.Length}");
        }
        if (data.Length != (bitLength + 7) / 8)
        {
            throw new ArgumentException("data length does not match the bit length", nameof(data));
        }
        // Bits past the end are kept zero so equal cells have equal buffers.
        if (bitLength % 8 != 0)
        {
            data[^1] &= (byte)(0xFF << (8 - bitLength % 8));
        }
        _data = data;
        BitLength = bitLength;
        _refs = refs;
        var depth = 0;
        foreach (var r in refs)
        {
            depth = Math.Max(depth, r.Depth + 1);
        }
        if (depth > MaxDepth)
        {
            throw new TonFormatException($"cell tree deeper than {MaxDepth}");
        }
        Depth = depth;
        _hash = ComputeHash();
    }

    public int BitLength { get; }

    public int Depth { get; }

    public IReadOnlyList<Cell> Refs => _refs;

    /// <summary>The data bits, left-aligned, with any unused trailing bits zero.</summary>
    public ReadOnlySpan<byte> Data => _data;

    /// <summary>The 32-byte representation hash (what addresses, signatures and state init hashes are made of).</summary>
    public ReadOnlySpan<byte> Hash => _hash;

    public byte[] HashBytes() => (byte[])_hash.Clone();

    public string HashHex => Convert.ToHexStringLower(_hash);

    public CellSlice BeginParse() => new(this);

    internal byte RefsDescriptor => (byte)_refs.Length;

    internal byte BitsDescriptor => (byte)(BitLength / 8 + (BitLength + 7) / 8);

    /// <summary>The data bytes with the completion tag (a 1 bit, then zeros) when the length is not whole bytes.</summary>
    internal void WritePaddedData(Span<byte> destination)
    {
        _data.CopyTo(destination);
        if (BitLength % 8 != 0)
        {
            destination[_data.Length - 1] |= (byte)(1 << (7 - BitLength % 8));
        }
    }

    private byte[] ComputeHash()
    {
        var dataLen = _data.Length;
        var size = 2 + dataLen + _refs.Length * (2 + 32);
        Span<byte> repr = size <= 512 ? stackalloc byte[size] : new byte[size];
        repr[0] = RefsDescriptor;
        repr[1] = BitsDescriptor;
        WritePaddedData(repr.Slice(2, dataLen));
        var at = 2 + dataLen;
        foreach (var r in _refs)
        {
            repr[at++] = (byte)(r.Depth >> 8);
            repr[at++] = (byte)r.Depth;
        }
        foreach (var r in _refs)
        {
            r._hash.CopyTo(repr.Slice(at, 32));
            at += 32;
        }
        return SHA256.HashData(repr);
    }

    public bool Equals(Cell? other) => other is not null && _hash.AsSpan().SequenceEqual(other._hash);

    public override bool Equals(object? obj) => Equals(obj as Cell);

    public override int GetHashCode() => BitConverter.ToInt32(_hash, 0);

    public override string ToString() => $"Cell({BitLength} bits, {_refs.Length} refs, {HashHex[..16]}…)";
}
