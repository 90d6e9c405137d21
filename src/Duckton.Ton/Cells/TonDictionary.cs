namespace Duckton.Ton.Cells;

/// <summary>
/// Builds TL-B <c>HashmapE n X</c> (TVM dictionaries) with fixed-length bit keys. Edge labels take the shortest of the
/// three encodings (short, long, same), the choice @ton/core and the TVM make, so equal maps give equal cells (the
/// escrow binds a hash of its candidates map into its address).
/// </summary>
public static class TonDictionary
{
    /// <summary>A key of <c>keyBits</c> bits (left-aligned bytes) and a writer for its value.</summary>
    public readonly record struct Entry(byte[] Key, Action<CellBuilder> WriteValue);

    /// <summary>Stores <c>HashmapE</c>: a 0 bit when empty, else a 1 bit and a reference to the root edge.</summary>
    public static CellBuilder StoreDictionary(this CellBuilder builder, int keyBits, IReadOnlyList<Entry> entries)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (entries.Count == 0)
        {
            return builder.StoreBit(false);
        }
        var keys = entries.Select(e => ToBits(e.Key, keyBits)).ToArray();
        if (keys.Select(k => new string(k.Select(b => b ? '1' : '0').ToArray())).Distinct(StringComparer.Ordinal).Count() != keys.Length)
        {
            throw new ArgumentException("duplicate dictionary key", nameof(entries));
        }
        var items = keys.Zip(entries, (k, e) => (Key: k, e.WriteValue)).ToList();
        return builder.StoreBit(true).StoreRef(Edge(items, 0, keyBits));
    }

    /// <summary>The cell a map is bound by: just the HashmapE (its bit and root reference).</summary>
    public static Cell DictionaryCell(int keyBits, IReadOnlyList<Entry> entries) => new CellBuilder().StoreDictionary(keyBits, entries).EndCell();

    /// <summary>A key holding a serialised address (267 bits: addr_std without anycast).</summary>
    public static byte[] AddressKey(Addresses.TonAddress address) => new CellBuilder().StoreAddress(address).EndCell().Data.ToArray();

    public static byte[] UIntKey(ulong value, int bits) => new CellBuilder().StoreUInt(value, bits).EndCell().Data.ToArray();

    private static bool[] ToBits(byte[] key, int bits)
    {
        if (key.Length * 8 < bits)
        {
            throw new ArgumentException($"a dictionary key needs {bits} bits", nameof(key));
        }
        var result = new bool[bits];
        for (var i = 0; i < bits; i++)
        {
            result[i] = (key[i >> 3] & (0x80 >> (i & 7))) != 0;
        }
        return result;
    }

    private static Cell Edge(List<(bool[] Key, Action<CellBuilder> Write)> items, int offset, int remaining)
    {
        // Longest common prefix of the remaining key parts.
        var prefix = 0;
        while (prefix < remaining && items.All(i => i.Key[offset + prefix] == items[0].Key[offset + prefix]))
        {
            prefix++;
        }
        var b = new CellBuilder();
        WriteLabel(b, items[0].Key.AsSpan(offset, prefix), remaining);
        if (prefix == remaining)
        {
            items[0].Write(b);
            return b.EndCell();
        }
        var at = offset + prefix;
        var left = items.Where(i => !i.Key[at]).ToList();
        var right = items.Where(i => i.Key[at]).ToList();
        b.StoreRef(Edge(left, at + 1, remaining - prefix - 1));
        b.StoreRef(Edge(right, at + 1, remaining - prefix - 1));
        return b.EndCell();
    }

    private static void WriteLabel(CellBuilder b, ReadOnlySpan<bool> label, int maxLength)
    {
        var lenBits = BitsFor(maxLength);
        var n = label.Length;
        var shortLen = 1 + n + 1 + n;
        var longLen = 2 + lenBits + n;
        var same = n > 0 && !label.Contains(!label[0]);
        var sameLen = 3 + lenBits;
        if (same && sameLen < Math.Min(shortLen, longLen))
        {
            b.StoreUInt(0b11, 2).StoreBit(label[0]).StoreUInt((ulong)n, lenBits);
        }
        else if (longLen < shortLen)
        {
            b.StoreUInt(0b10, 2).StoreUInt((ulong)n, lenBits);
            foreach (var bit in label)
            {
                b.StoreBit(bit);
            }
        }
        else
        {
            b.StoreBit(false);
            for (var i = 0; i < n; i++)
            {
                b.StoreBit(true);
            }
            b.StoreBit(false);
            foreach (var bit in label)
            {
                b.StoreBit(bit);
            }
        }
    }

    // ceil(log2(maxLength + 1)): the width of a length field that can hold 0..maxLength.
    private static int BitsFor(int maxLength) => maxLength == 0 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)maxLength);
}
