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
/// Digests are uniformly random, so a most-significant-byte radix sort splits them evenly. Small sets
/// live in one array. Past <see cref="FlatLimit"/>, digests are partitioned on arrival by their first
/// byte (the sort's first pass, done while they are still in cache) into 256 buckets. A bucket is a list
/// of 4 KiB pieces carved from 1 MiB arena arrays, so growing never copies, the GC sees a few large
/// arrays, and each digest crosses main memory once on the way in and once on the way out. At the end
/// each bucket (cache-sized for results of millions of rows) is gathered, radix-sorted on its own and
/// streamed into the final hash. No comparison sort ever runs on more than a couple of dozen digests.
/// </remarks>
internal sealed unsafe class RowDigestSet
{
    private const int D = Blake3Spec.OutLen;
    private const int FlatLimit = 4096;
    private const int PieceBytes = 4096;
    private const int PiecesPerSegment = 256; // 1 MiB arena arrays

    private byte[] _flat = new byte[64 * D];
    private int _flatCount;

    // Arena arrays are allocated pinned (pinned object heap), so raw write cursors into them stay valid.
    private List<byte[]>? _arena;
    private int _nextPiece;
    private List<int>[]? _pieces;   // per bucket: arena piece numbers, in fill order
    private nint[]? _cursor;        // per bucket: next free byte of its current piece
    private nint[]? _end;           // per bucket: end of its current piece
    private long[]? _bucketCounts;

    private bool _written;

    public long Count { get; private set; }

    public void Add(ReadOnlySpan<byte> digests)
    {
        // After WriteSorted the arenas belong to the pool again: the raw cursors must never be used.
        ObjectDisposedException.ThrowIf(_written, this);
        var n = digests.Length / D;
        Count += n;
        if (_pieces is null)
        {
            if (_flatCount + n <= FlatLimit)
            {
                if ((_flatCount + n) * D > _flat.Length)
                {
                    Array.Resize(ref _flat, Math.Min(FlatLimit, Math.Max(2 * _flat.Length / D, _flatCount + n)) * D);
                }
                digests.CopyTo(_flat.AsSpan(_flatCount * D));
                _flatCount += n;
                return;
            }
            _arena = [];
            _pieces = new List<int>[256];
            _cursor = new nint[256]; // cursor == end == 0: the first digest takes a fresh piece
            _end = new nint[256];
            _bucketCounts = new long[256];
            for (var b = 0; b < 256; b++)
            {
                _pieces[b] = [];
            }
            var flat = _flat;
            _flat = [];
            AddToBuckets(flat.AsSpan(0, _flatCount * D));
            _flatCount = 0;
        }
        AddToBuckets(digests);
    }

    private void AddToBuckets(ReadOnlySpan<byte> digests)
    {
        var cursor = _cursor!;
        var end = _end!;
        var counts = _bucketCounts!;
        fixed (byte* start = digests)
        {
            for (var at = 0; at < digests.Length; at += D)
            {
                var digest = start + at;
                int b = digest[0];
                if (cursor[b] == end[b])
                {
                    NewPiece(b);
                }
                Vector256.Load(digest).Store((byte*)cursor[b]);
                cursor[b] += D;
                counts[b]++;
            }
        }
    }

    private void NewPiece(int bucket)
    {
        var number = _nextPiece++;
        if (number % PiecesPerSegment == 0)
        {
            _arena!.Add(ArenaPool.Rent());
        }
        _pieces![bucket].Add(number);
        var piece = (nint)Unsafe.AsPointer(ref _arena![number / PiecesPerSegment][number % PiecesPerSegment * PieceBytes]);
        _cursor![bucket] = piece;
        _end![bucket] = piece + PieceBytes;
    }

    /// <summary>Feeds every digest to <paramref name="hasher"/> in ascending byte order. Destroys the set's contents.</summary>
    public void WriteSorted(Blake3Hasher hasher)
    {
        ObjectDisposedException.ThrowIf(_written, this);
        _written = true;
        if (_pieces is null)
        {
            var sorted = new byte[_flatCount * D];
            DigestSort.SortInto(_flat.AsSpan(0, _flatCount * D), sorted, 0);
            hasher.Update(sorted);
            return;
        }
        var counts = _bucketCounts!;
        var largest = checked((int)(counts.Max() * D));
        var gathered = ArrayPool<byte>.Shared.Rent(largest);
        var output = ArrayPool<byte>.Shared.Rent(largest);
        for (var b = 0; b < 256; b++)
        {
            var bytes = (int)(counts[b] * D);
            if (bytes == 0)
            {
                continue;
            }
            var at = 0;
            foreach (var number in _pieces[b])
            {
                var take = Math.Min(PieceBytes, bytes - at);
                _arena![number / PiecesPerSegment].AsSpan(number % PiecesPerSegment * PieceBytes, take).CopyTo(gathered.AsSpan(at));
                at += take;
            }
            // Every digest here shares byte 0, so the radix sort starts at byte 1.
            DigestSort.SortInto(gathered.AsSpan(0, bytes), output.AsSpan(0, bytes), 1);
            hasher.Update(output.AsSpan(0, bytes));
        }
        ArrayPool<byte>.Shared.Return(gathered);
        ArrayPool<byte>.Shared.Return(output);
        _cursor = null;
        _end = null;
        foreach (var segment in _arena!)
        {
            ArenaPool.Return(segment);
        }
        _arena.Clear();
    }
}

/// <summary>
/// Reuses the pinned 1 MiB arena arrays across hashers: a node hashes result after result, and fresh
/// memory costs a page fault per 4 KiB on first touch. At most <see cref="MaxRetained"/> arrays (64 MiB) are kept.
/// </summary>
internal static class ArenaPool
{
    private const int MaxRetained = 64;
    private const int Size = 1 << 20;
    private static readonly System.Collections.Concurrent.ConcurrentStack<byte[]> s_free = new();

    public static byte[] Rent() => s_free.TryPop(out var array) ? array : GC.AllocateUninitializedArray<byte>(Size, pinned: true);

    public static void Return(byte[] array)
    {
        if (array.Length == Size && s_free.Count < MaxRetained)
        {
            s_free.Push(array);
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
