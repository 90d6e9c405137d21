using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Duckton.Core.Hashing;

/// <summary>
/// The multiset of 32-byte row digests (duplicates kept), emitted in ascending byte order at the end.
/// </summary>
/// <remarks>
/// Digests are uniformly random, so a most-significant-byte radix sort splits them evenly: small sets
/// are kept in one array; past <see cref="FlatLimit"/> they are partitioned on arrival into 256 buckets
/// by their first byte (the sort's first pass), and each bucket is radix-sorted on its own at the end
/// (cache-sized), so no comparison sort of byte arrays ever runs on more than a handful of digests.
/// </remarks>
internal sealed class RowDigestSet
{
    private const int D = Blake3Spec.OutLen;
    private const int FlatLimit = 1 << 15;

    private byte[] _flat = new byte[64 * D];
    private int _flatCount;
    private byte[][]? _buckets;
    private int[]? _bucketCounts;

    public long Count { get; private set; }

    public void Add(ReadOnlySpan<byte> digests)
    {
        var n = digests.Length / D;
        if (_buckets is null)
        {
            if (_flatCount + n <= FlatLimit)
            {
                if ((_flatCount + n) * D > _flat.Length)
                {
                    Array.Resize(ref _flat, Math.Max(_flat.Length * 2, (_flatCount + n) * D));
                }
                digests.CopyTo(_flat.AsSpan(_flatCount * D));
                _flatCount += n;
                Count += n;
                return;
            }
            SplitIntoBuckets();
        }
        AddToBuckets(digests);
        Count += n;
    }

    private void SplitIntoBuckets()
    {
        _buckets = new byte[256][];
        _bucketCounts = new int[256];
        var initial = Math.Max(64, 2 * FlatLimit / 256) * D;
        for (var b = 0; b < 256; b++)
        {
            _buckets[b] = new byte[initial];
        }
        AddToBuckets(_flat.AsSpan(0, _flatCount * D));
        _flat = [];
        _flatCount = 0;
    }

    private void AddToBuckets(ReadOnlySpan<byte> digests)
    {
        var buckets = _buckets!;
        var counts = _bucketCounts!;
        for (var offset = 0; offset < digests.Length; offset += D)
        {
            var digest = digests.Slice(offset, D);
            var b = digest[0];
            var count = counts[b];
            var bucket = buckets[b];
            if ((count + 1) * D > bucket.Length)
            {
                Array.Resize(ref buckets[b], bucket.Length * 2);
                bucket = buckets[b];
            }
            digest.CopyTo(bucket.AsSpan(count * D, D));
            counts[b] = count + 1;
        }
    }

    /// <summary>Feeds every digest to <paramref name="hasher"/> in ascending byte order. Destroys the set's contents.</summary>
    public void WriteSorted(Blake3Hasher hasher)
    {
        if (_buckets is null)
        {
            var scratch = new byte[_flatCount * D];
            DigestSort.SortInto(_flat.AsSpan(0, _flatCount * D), scratch, 0);
            hasher.Update(scratch);
            return;
        }
        var counts = _bucketCounts!;
        var sorted = new byte[counts.Max() * D];
        for (var b = 0; b < 256; b++)
        {
            var bytes = counts[b] * D;
            // Every digest here shares byte 0, so the radix sort starts at byte 1.
            DigestSort.SortInto(_buckets[b].AsSpan(0, bytes), sorted.AsSpan(0, bytes), 1);
            hasher.Update(sorted.AsSpan(0, bytes));
        }
    }
}

/// <summary>Most-significant-byte-first radix sort of 32-byte keys, in ascending unsigned lexicographic order.</summary>
internal static class DigestSort
{
    private const int D = Blake3Spec.OutLen;
    private const int SmallSort = 24;

    /// <summary>
    /// Sorts the digests of <paramref name="src"/> into <paramref name="dst"/> (same length), assuming all
    /// share their first <paramref name="depth"/> bytes. <paramref name="src"/> is used as scratch.
    /// </summary>
    public static void SortInto(Span<byte> src, Span<byte> dst, int depth)
    {
        var n = src.Length / D;
        if (n <= SmallSort || depth >= D)
        {
            src.CopyTo(dst);
            InsertionSort(dst, n);
            return;
        }

        Span<int> counts = stackalloc int[256];
        counts.Clear();
        for (var i = 0; i < n; i++)
        {
            counts[src[(i * D) + depth]]++;
        }
        if (counts[src[depth]] == n)
        {
            // Everything shares this byte too: duplicates (repeated rows) or a deep common prefix.
            if (AllEqual(src, n))
            {
                src.CopyTo(dst);
                return;
            }
            SortInto(src, dst, depth + 1);
            return;
        }

        Span<int> next = stackalloc int[256];
        var sum = 0;
        for (var b = 0; b < 256; b++)
        {
            next[b] = sum;
            sum += counts[b];
        }
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(dst);
        for (var i = 0; i < n; i++)
        {
            var key = Unsafe.Add(ref s, (i * D) + depth);
            var slot = next[key]++;
            Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref d, slot * D), ref Unsafe.Add(ref s, i * D), D);
        }

        var start = 0;
        for (var b = 0; b < 256; b++)
        {
            var count = counts[b];
            if (count > 1)
            {
                var bucket = dst.Slice(start * D, count * D);
                if (count <= SmallSort)
                {
                    InsertionSort(bucket, count);
                }
                else
                {
                    var scratch = src.Slice(start * D, count * D);
                    SortInto(bucket, scratch, depth + 1);
                    scratch.CopyTo(bucket);
                }
            }
            start += count;
        }
    }

    private static bool AllEqual(ReadOnlySpan<byte> digests, int n)
    {
        var first = digests[..D];
        for (var i = 1; i < n; i++)
        {
            if (!digests.Slice(i * D, D).SequenceEqual(first))
            {
                return false;
            }
        }
        return true;
    }

    private static void InsertionSort(Span<byte> digests, int n)
    {
        Span<byte> current = stackalloc byte[D];
        for (var i = 1; i < n; i++)
        {
            digests.Slice(i * D, D).CopyTo(current);
            var j = i - 1;
            while (j >= 0 && digests.Slice(j * D, D).SequenceCompareTo(current) > 0)
            {
                digests.Slice(j * D, D).CopyTo(digests.Slice((j + 1) * D, D));
                j--;
            }
            current.CopyTo(digests.Slice((j + 1) * D, D));
        }
    }
}
