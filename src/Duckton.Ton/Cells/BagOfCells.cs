using System.Buffers.Binary;

namespace Duckton.Ton.Cells;

/// <summary>Limits applied when parsing an untrusted bag of cells.</summary>
/// <param name="MaxCells">Most cells accepted (a wallet message has a handful; contract code a few hundred).</param>
/// <param name="MaxBytes">Largest serialised size accepted.</param>
public sealed record BocLimits(int MaxCells = 1 << 16, int MaxBytes = 16 << 20)
{
    public static BocLimits Default { get; } = new();
}

/// <summary>
/// The standard bag-of-cells format (magic b5ee9c72). Serialisation orders cells as @ton/core does (a depth-first
/// topological order over the distinct cells), so the bytes equal those of the reference TON libraries; parsing accepts
/// any valid order, an index, and checks the CRC-32C when present.
/// </summary>
public static class BagOfCells
{
    private const uint Magic = 0xB5EE9C72;

    public static byte[] Serialize(Cell root, bool withCrc32C = true, bool withIndex = false)
    {
        ArgumentNullException.ThrowIfNull(root);
        var (cells, refIndexes) = Order(root);
        var count = cells.Count;
        var sizeBytes = Math.Max(1, (BitsFor(count) + 7) / 8);
        var offsets = new long[count];
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            total += 2 + (cells[i].BitLength + 7) / 8 + cells[i].Refs.Count * sizeBytes;
            offsets[i] = total;
        }
        var offBytes = Math.Max(1, (BitsFor(total) + 7) / 8);
        var size = 4 + 1 + 1 + 3 * sizeBytes + offBytes + sizeBytes + (withIndex ? count * offBytes : 0) + (int)total + (withCrc32C ? 4 : 0);
        var output = new byte[size];
        var at = 0;
        BinaryPrimitives.WriteUInt32BigEndian(output, Magic);
        at += 4;
        output[at++] = (byte)((withIndex ? 0x80 : 0) | (withCrc32C ? 0x40 : 0) | sizeBytes);
        output[at++] = (byte)offBytes;
        WriteUInt(output, ref at, (ulong)count, sizeBytes);
        WriteUInt(output, ref at, 1, sizeBytes);
        WriteUInt(output, ref at, 0, sizeBytes);
        WriteUInt(output, ref at, (ulong)total, offBytes);
        WriteUInt(output, ref at, 0, sizeBytes);
        if (withIndex)
        {
            foreach (var o in offsets)
            {
                WriteUInt(output, ref at, (ulong)o, offBytes);
            }
        }
        for (var i = 0; i < count; i++)
        {
            var c = cells[i];
            output[at++] = c.RefsDescriptor;
            output[at++] = c.BitsDescriptor;
            var dataLen = (c.BitLength + 7) / 8;
            c.WritePaddedData(output.AsSpan(at, dataLen));
            at += dataLen;
            foreach (var r in refIndexes[i])
            {
                WriteUInt(output, ref at, (ulong)r, sizeBytes);
            }
        }
        if (withCrc32C)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(at), Crc32C.Compute(output.AsSpan(0, at)));
            at += 4;
        }
        if (at != size)
        {
            throw new InvalidOperationException("bag of cells size mismatch");
        }
        return output;
    }

    public static string SerializeBase64(Cell root) => Convert.ToBase64String(Serialize(root));

    /// <summary>Parses a bag with exactly one root.</summary>
    public static Cell ParseSingle(ReadOnlySpan<byte> data, BocLimits? limits = null)
    {
        var roots = Parse(data, limits);
        if (roots.Count != 1)
        {
            throw new TonFormatException($"bag of cells: expected one root, found {roots.Count}");
        }
        return roots[0];
    }

    public static Cell ParseBase64(string base64, BocLimits? limits = null)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException e)
        {
            throw new TonFormatException("bag of cells: not valid base64", e);
        }
        return ParseSingle(bytes, limits);
    }

    public static IReadOnlyList<Cell> Parse(ReadOnlySpan<byte> data, BocLimits? limits = null)
    {
        limits ??= BocLimits.Default;
        if (data.Length > limits.MaxBytes)
        {
            throw new TonFormatException($"bag of cells: {data.Length} bytes exceeds the limit of {limits.MaxBytes}");
        }
        var at = 0;
        if (data.Length < 6)
        {
            throw new TonFormatException("bag of cells: truncated header");
        }
        var magic = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (magic != Magic)
        {
            throw new TonFormatException($"bag of cells: bad magic 0x{magic:x8} (expected b5ee9c72)");
        }
        at = 4;
        var flags = data[at++];
        var hasIndex = (flags & 0x80) != 0;
        var hasCrc = (flags & 0x40) != 0;
        var hasCacheBits = (flags & 0x20) != 0;
        if ((flags & 0x18) != 0)
        {
            throw new TonFormatException("bag of cells: reserved flag bits set");
        }
        if (hasCacheBits && !hasIndex)
        {
            throw new TonFormatException("bag of cells: cache bits without an index");
        }
        var sizeBytes = flags & 0x07;
        if (sizeBytes is < 1 or > 4)
        {
            throw new TonFormatException($"bag of cells: reference size {sizeBytes} bytes is out of range 1..4");
        }
        var offBytes = data[at++];
        if (offBytes is < 1 or > 8)
        {
            throw new TonFormatException($"bag of cells: offset size {offBytes} bytes is out of range 1..8");
        }
        if (hasCrc)
        {
            if (data.Length < at + 4)
            {
                throw new TonFormatException("bag of cells: truncated");
            }
            var stored = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
            var actual = Crc32C.Compute(data[..^4]);
            if (stored != actual)
            {
                throw new TonFormatException($"bag of cells: CRC32C mismatch (stored {stored:x8}, computed {actual:x8})");
            }
            data = data[..^4];
        }
        var cellCount = ReadUInt(data, ref at, sizeBytes, "cell count");
        var rootCount = ReadUInt(data, ref at, sizeBytes, "root count");
        var absent = ReadUInt(data, ref at, sizeBytes, "absent count");
        var totalSize = ReadUInt(data, ref at, offBytes, "total cell size");
        if (cellCount == 0 || cellCount > (ulong)limits.MaxCells)
        {
            throw new TonFormatException($"bag of cells: {cellCount} cells is outside 1..{limits.MaxCells}");
        }
        if (rootCount == 0 || rootCount > cellCount)
        {
            throw new TonFormatException($"bag of cells: {rootCount} roots for {cellCount} cells");
        }
        if (absent != 0)
        {
            throw new TonFormatException("bag of cells: absent cells are not supported");
        }
        var n = (int)cellCount;
        var rootIndexes = new int[(int)rootCount];
        for (var i = 0; i < rootIndexes.Length; i++)
        {
            var r = ReadUInt(data, ref at, sizeBytes, "root index");
            if (r >= cellCount)
            {
                throw new TonFormatException($"bag of cells: root index {r} out of range");
            }
            rootIndexes[i] = (int)r;
        }
        if (hasIndex)
        {
            // The index only speeds up random access; its content is re-derived from the cells below.
            var indexLen = (long)n * offBytes;
            if (data.Length - at < indexLen)
            {
                throw new TonFormatException("bag of cells: truncated index");
            }
            at += (int)indexLen;
        }
        if ((ulong)(data.Length - at) != totalSize)
        {
            throw new TonFormatException(data.Length - at < (long)Math.Min(totalSize, int.MaxValue)
                ? $"bag of cells: truncated (cell data declares {totalSize} bytes, {data.Length - at} present)"
                : $"bag of cells: {data.Length - at - (long)totalSize} unexpected trailing bytes");
        }
        var raw = new RawCell[n];
        for (var i = 0; i < n; i++)
        {
            raw[i] = ReadCell(data, ref at, sizeBytes, i, n);
        }
        var built = new Cell[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var refs = new Cell[raw[i].Refs.Length];
            for (var k = 0; k < refs.Length; k++)
            {
                refs[k] = built[raw[i].Refs[k]];
            }
            built[i] = new Cell(raw[i].Data, raw[i].Bits, refs);
        }
        var roots = new Cell[rootIndexes.Length];
        for (var i = 0; i < roots.Length; i++)
        {
            roots[i] = built[rootIndexes[i]];
        }
        return roots;
    }

    private readonly record struct RawCell(byte[] Data, int Bits, int[] Refs);

    private static RawCell ReadCell(ReadOnlySpan<byte> data, ref int at, int sizeBytes, int index, int count)
    {
        if (data.Length - at < 2)
        {
            throw new TonFormatException($"bag of cells: cell {index} is truncated");
        }
        var d1 = data[at++];
        var d2 = data[at++];
        var refCount = d1 & 7;
        if ((d1 & 8) != 0)
        {
            throw new TonFormatException($"bag of cells: cell {index} is exotic; exotic cells are not accepted");
        }
        if (refCount > Cell.MaxRefs)
        {
            throw new TonFormatException($"bag of cells: cell {index} declares {refCount} references (at most 4)");
        }
        if ((d1 >> 5) != 0)
        {
            throw new TonFormatException($"bag of cells: cell {index} has a non-zero level, which only exotic cells may have");
        }
        if ((d1 & 16) != 0)
        {
            throw new TonFormatException($"bag of cells: cell {index} carries stored hashes, which are not accepted");
        }
        var dataLen = (d2 + 1) / 2;
        var padded = (d2 & 1) != 0;
        if (dataLen > 128 || data.Length - at < dataLen + refCount * sizeBytes)
        {
            throw new TonFormatException($"bag of cells: cell {index} is truncated or oversized");
        }
        var bytes = data.Slice(at, dataLen).ToArray();
        at += dataLen;
        var bits = dataLen * 8;
        if (padded)
        {
            var last = bytes[^1];
            if (last == 0)
            {
                throw new TonFormatException($"bag of cells: cell {index} has padding without a completion bit");
            }
            var trailing = System.Numerics.BitOperations.TrailingZeroCount(last);
            bits -= trailing + 1;
            bytes[^1] = (byte)(last & ~(1 << trailing));
        }
        if (bits > Cell.MaxBits)
        {
            throw new TonFormatException($"bag of cells: cell {index} holds {bits} bits (at most 1023)");
        }
        var refs = new int[refCount];
        for (var k = 0; k < refCount; k++)
        {
            var r = ReadUInt(data, ref at, sizeBytes, "reference");
            // References must point forward: that is what rules out cycles.
            if (r <= (ulong)index || r >= (ulong)count)
            {
                throw new TonFormatException($"bag of cells: cell {index} references cell {r}, which is not after it");
            }
            refs[k] = (int)r;
        }
        return new RawCell(bytes, bits, refs);
    }

    private static ulong ReadUInt(ReadOnlySpan<byte> data, ref int at, int bytes, string what)
    {
        if (data.Length - at < bytes)
        {
            throw new TonFormatException($"bag of cells: truncated while reading the {what}");
        }
        ulong v = 0;
        for (var i = 0; i < bytes; i++)
        {
            v = (v << 8) | data[at++];
        }
        return v;
    }

    private static void WriteUInt(byte[] output, ref int at, ulong value, int bytes)
    {
        for (var i = bytes - 1; i >= 0; i--)
        {
            output[at++] = (byte)(value >> (i * 8));
        }
    }

    private static int BitsFor(long value) => value == 0 ? 1 : 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value);

    /// <summary>
    /// The cell order of @ton/core: distinct cells collected breadth first, then a depth-first post-order visit (children
    /// last to first) started from the earliest unvisited cell, reversed. Equal bytes with the reference library need it.
    /// </summary>
    private static (List<Cell> Cells, List<int[]> Refs) Order(Cell root)
    {
        var known = new Dictionary<Cell, int>();
        var collected = new List<Cell>();
        var pending = new List<Cell> { root };
        while (pending.Count > 0)
        {
            var batch = pending;
            pending = [];
            foreach (var c in batch)
            {
                if (known.ContainsKey(c))
                {
                    continue;
                }
                known[c] = collected.Count;
                collected.Add(c);
                pending.AddRange(c.Refs);
            }
        }
        var done = new bool[collected.Count];
        var sorted = new List<Cell>(collected.Count);
        var stack = new Stack<(int Cell, int NextChild)>();
        for (var start = 0; start < collected.Count; start++)
        {
            if (done[start])
            {
                continue;
            }
            // Iterative post-order so a 1024-deep chain cannot overflow the stack.
            stack.Push((start, collected[start].Refs.Count - 1));
            while (stack.Count > 0)
            {
                var (ci, next) = stack.Pop();
                if (next >= 0)
                {
                    stack.Push((ci, next - 1));
                    var child = known[collected[ci].Refs[next]];
                    if (!done[child])
                    {
                        stack.Push((child, collected[child].Refs.Count - 1));
                    }
                    continue;
                }
                if (!done[ci])
                {
                    done[ci] = true;
                    sorted.Add(collected[ci]);
                }
            }
        }
        sorted.Reverse();
        var position = new Dictionary<Cell, int>(sorted.Count);
        for (var i = 0; i < sorted.Count; i++)
        {
            position[sorted[i]] = i;
        }
        var refs = new List<int[]>(sorted.Count);
        foreach (var c in sorted)
        {
            var r = new int[c.Refs.Count];
            for (var k = 0; k < r.Length; k++)
            {
                r[k] = position[c.Refs[k]];
            }
            refs.Add(r);
        }
        return (sorted, refs);
    }
}
