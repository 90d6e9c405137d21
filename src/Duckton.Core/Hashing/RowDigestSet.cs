using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Duckton.Core.Hashing;

/// <summary>
/// The multiset of 32-byte row digests (duplicates kept), emitted in ascending byte order at the end.
/// </summary>
/// <remarks>
/// Digests are uniformly random, so a most-significant-byte radix sort splits them evenly. They are
/// appended to fixed 1 MiB segments (no copying as the set grows) while a histogram of their first byte
/// is kept; at the end one pass scatters them into 256 exactly-sized buckets, and each bucket (cache-sized
/// for results of millions of rows) is radix-sorted on its own and streamed into the final hash.
/// No comparison sort ever runs on more than a couple of dozen digests.
/// </remarks>
internal sealed class RowDigestSet
{
    private const int D = Blake3Spec.OutLen;
    private const int SegmentDigests = 1 << 15;

    private readonly List<byte[]> _segments = [];
    private readonly long[] _histogram = new long[256];
    private int _lastCount;

    public long Count { get; private set; }

    public void Add(ReadOnlySpan<byte> digests)
    {
        for (var i = 0; i < digests.Length; i += D)
        {
            _histogram[digests[i]]++;
        }
        Count += digests.Length / D;
        while (!digests.IsEmpty)
        {
            if (_segments.Count == 0 || _lastCount * D == _segments[^1].Length)
            {
                if (_segments.Count == 1 && _segments[0].Length < SegmentDigests * D)
                {
                    // Small results start in a small first segment, grown until it is full size.
                    var first = _segments[0];
                    Array.Resize(ref first, Math.Min(SegmentDigests, first.Length / D * 4) * D);
                    _segments[0] = first;
                }
                else
                {
                    var size = _segments.Count == 0 ? Math.Clamp(digests.Length / D, 64, SegmentDigests) : SegmentDigests;
                    _segments.Add(GC.AllocateUninitializedArray<byte>(size * D));
                    _lastCount = 0;
                }
            }
            var last = _segments[^1];
            var take = Math.Min((last.Length / D) - _lastCount, digests.Length / D);
            digests[..(take * D)].CopyTo(last.AsSpan(_lastCount * D));
            _lastCount += take;
            digests = digests[(take * D)..];
        }
    }

    private IEnumerable<(byte[] Segment, int Digests)> Segments()
    {
        for (var i = 0; i < _segments.Count; i++)
        {
            yield return (_segments[i], i == _segments.Count - 1 ? _lastCount : _segments[i].Length / D);
        }
    }

    /// <summary>Feeds every digest to <paramref name="hasher"/> in ascending byte order. Destroys the set's contents.</summary>
    public void WriteSorted(Blake3Hasher hasher)
    {
        if (Count == 0)
        {
            return;
        }
        if (_segments.Count == 1)
        {
            var (only, n) = Segments().First();
            var sorted = GC.AllocateUninitializedArray<byte>(n * D);
            DigestSort.SortInto(only.AsSpan(0, n * D), sorted, 0);
            hasher.Update(sorted);
            return;
        }

        // First radix pass: scatter into 256 buckets sized by the histogram.
        var buckets = new byte[256][];
        var fill = new int[256];
        long largest = 0;
        for (var b = 0; b < 256; b++)
        {
            buckets[b] = _histogram[b] == 0 ? [] : GC.AllocateUninitializedArray<byte>(checked((int)(_histogram[b] * D)));
            largest = Math.Max(largest, _histogram[b]);
        }
        var segmentIndex = 0;
        foreach (var (segment, n) in Segments())
        {
            for (var i = 0; i < n; i++)
            {
                var digest = segment.AsSpan(i * D, D);
                var b = digest[0];
                digest.CopyTo(buckets[b].AsSpan(fill[b] * D, D));
                fill[b]++;
            }
            _segments[segmentIndex++] = []; // release as we go
        }

        var scratch = GC.AllocateUninitializedArray<byte>((int)largest * D);
        for (var b = 0; b < 256; b++)
        {
            var bytes = buckets[b].Length;
            if (bytes == 0)
            {
                continue;
            }
            // Every digest here shares byte 0, so the radix sort starts at byte 1.
            DigestSort.SortInto(buckets[b], scratch.AsSpan(0, bytes), 1);
            buckets[b] = [];
            hasher.Update(scratch.AsSpan(0, bytes));
        }
    }
}

/// <summary>Most-significant-byte-first radix sort of 32-byte keys, in ascending unsigned lexicographic order.</summary>
internal static class DigestSort
{
    private const int D = Blake3Spec.OutLen;
    private const int SmallSort = 24;
    private const int IndexBits = 24;
    private const int MaxKeyed = 1 << IndexBits;

    /// <summary>
    /// Sorts up to 2^24 digests sharing their first <paramref name="depth"/> bytes by 64-bit keys:
    /// the next 5 bytes (40 bits) above the digest's index. One radix pass on the top key byte, insertion
    /// sorts of the (tiny) sub-buckets, a gather of the 32-byte digests in key order, and a final pass that
    /// orders the rare runs whose 5 key bytes tie (mostly duplicate rows) by their full bytes.
    /// </summary>
    private static void SortByKeys(ReadOnlySpan<byte> src, Span<byte> dst, int depth)
    {
        var n = src.Length / D;
        var keyArray = ArrayPool<ulong>.Shared.Rent(n);
        var sortedArray = ArrayPool<ulong>.Shared.Rent(n);
        var keys = keyArray.AsSpan(0, n);
        var sorted = sortedArray.AsSpan(0, n);
        Span<int> counts = stackalloc int[256];
        counts.Clear();
        for (var i = 0; i < n; i++)
        {
            // Bytes depth..depth+7 big-endian; keep the top 40 bits, put the index in the low 24.
            var prefix = BinaryPrimitives.ReadUInt64BigEndian(src.Slice((i * D) + depth, 8));
            var key = (prefix & ~((1UL << IndexBits) - 1)) | (uint)i;
            keys[i] = key;
            counts[(int)(key >> 56)]++;
        }
        Span<int> next = stackalloc int[256];
        var sum = 0;
        for (var b = 0; b < 256; b++)
        {
            next[b] = sum;
            sum += counts[b];
        }
        foreach (var key in keys)
        {
            sorted[next[(int)(key >> 56)]++] = key;
        }
        var start = 0;
        for (var b = 0; b < 256; b++)
        {
            var count = counts[b];
            if (count > 1)
            {
                sorted.Slice(start, count).Sort(); // tiny for random keys; introsort bounds the worst case
            }
            start += count;
        }
        ref var s0 = ref MemoryMarshal.GetReference(src);
        ref var d0 = ref MemoryMarshal.GetReference(dst);
        if (dst.Length < n * D)
        {
            throw new ArgumentException("destination too short", nameof(dst));
        }
        for (var i = 0; i < n; i++)
        {
            var index = (int)(sorted[i] & ((1UL << IndexBits) - 1));
            Vector256.LoadUnsafe(ref s0, (nuint)(index * D)).StoreUnsafe(ref d0, (nuint)(i * D));
        }
        // Runs with equal 40-bit keys are in index order, not byte order: fix them with full comparisons.
        for (var i = 1; i < n; i++)
        {
            if ((sorted[i] >> IndexBits) != (sorted[i - 1] >> IndexBits))
            {
                continue;
            }
            var runStart = i - 1;
            while (i + 1 < n && (sorted[i + 1] >> IndexBits) == (sorted[runStart] >> IndexBits))
            {
                i++;
            }
            InsertionSort(dst.Slice(runStart * D, (i - runStart + 1) * D), i - runStart + 1);
        }
        ArrayPool<ulong>.Shared.Return(keyArray);
        ArrayPool<ulong>.Shared.Return(sortedArray);
    }

    /// <summary>
    /// Sorts the digests of <paramref name="src"/> into <paramref name="dst"/> (same length), assuming all
    /// share their first <paramref name="depth"/> bytes. <paramref name="src"/> is used as scratch.
    /// </summary>
    public static void SortInto(Span<byte> src, Span<byte> dst, int depth)
    {
        var n = src.Length / D;
        if (n > SmallSort && n <= MaxKeyed && depth <= 2)
        {
            SortByKeys(src, dst, depth);
            return;
        }
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

    /// <summary>Insertion sort for a handful of digests: compares the first 8 bytes as a big-endian number, then the rest.</summary>
    private static void InsertionSort(Span<byte> digests, int n)
    {
        if (digests.Length < n * D)
        {
            throw new ArgumentException("span shorter than its digest count", nameof(digests));
        }
        ref var d0 = ref MemoryMarshal.GetReference(digests);
        for (var i = 1; i < n; i++)
        {
            var current = Vector256.LoadUnsafe(ref d0, (nuint)(i * D));
            var key = Prefix(ref d0, i);
            var j = i - 1;
            while (j >= 0)
            {
                var other = Prefix(ref d0, j);
                if (other < key || (other == key && digests.Slice(j * D, D).SequenceCompareTo(digests.Slice(i * D, D)) <= 0))
                {
                    break;
                }
                j--;
            }
            if (j + 1 < i)
            {
                // Shift the larger ones up by one slot and drop the current digest into the gap.
                digests.Slice((j + 1) * D, (i - j - 1) * D).CopyTo(digests[((j + 2) * D)..]);
                current.StoreUnsafe(ref d0, (nuint)((j + 1) * D));
            }
        }
    }

    private static ulong Prefix(ref byte d0, int index) =>
        BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref d0, index * D)));
}
