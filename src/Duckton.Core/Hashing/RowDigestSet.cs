using System.Buffers;
using System.Collections.Concurrent;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Duckton.Core.Hashing;

/// <summary>
/// The multiset of 32-byte row digests (duplicates kept), emitted in ascending byte order at the end.
/// </summary>
/// <remarks>
/// Digests are uniformly random, so a most-significant-byte radix sort splits them evenly. Small sets
/// live in one array. Past <see cref="FlatLimit"/>, digests are partitioned on arrival by their first
/// byte (the sort's first pass, done while they are still in cache) into 256 buckets. A bucket is a list
/// of 4 KiB pieces carved from 1 MiB arena arrays, so growing never copies, and the GC sees a few large
/// arrays. Digests are written a whole 64-byte line (two digests) at a time with streaming stores, so each
/// crosses main memory once on the way in and once on the way out, without a read for ownership. At the
/// end each bucket (cache-sized for results of millions of rows) is sorted by 64-bit keys read in place
/// (<see cref="DigestSort.SortPieces"/>), copied once in order and streamed into the final hash.
/// </remarks>
internal sealed unsafe class RowDigestSet
{
    private const int D = Blake3Spec.OutLen;
    private const int FlatLimit = 4096;
    private const int PieceBytes = 4096;
    private const int PiecesPerSegment = 256; // 1 MiB arena arrays
    private const int SubtreeBytes = 128 * Blake3Spec.ChunkLen; // Blake3Core's largest lanes-parallel subtree
    private const int FeedBytes = 4 * SubtreeBytes;

    private byte[] _flat = []; // grows with the rows added, up to FlatLimit digests
    private int _flatCount;

    // Arena arrays are allocated pinned (pinned object heap), so raw write cursors into them stay valid.
    private List<byte[]>? _arena;
    private int _nextPiece;
    private List<int>[]? _pieces;   // per bucket: arena piece numbers, in fill order
    private nint[]? _cursor;        // per bucket: next free byte of its current piece
    private nint[]? _end;           // per bucket: end of its current piece
    private long[]? _bucketCounts;
    private byte[]? _held;          // per bucket: a digest waiting for the other half of its cache line

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
            _held = GC.AllocateUninitializedArray<byte>(256 * D, pinned: true);
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
        fixed (byte* held = _held)
        {
            for (var at = 0; at < digests.Length; at += D)
            {
                var digest = start + at;
                int b = digest[0];
                var value = Vector256.Load(digest);
                var half = held + (b * D);
                if ((counts[b] & 1) == 0)
                {
                    // The first half of a cache line: held back until its second half arrives.
                    value.Store(half);
                }
                else
                {
                    if (cursor[b] == end[b])
                    {
                        NewPiece(b);
                    }
                    // A whole 64-byte line at once, around the cache: a partial line written through the
                    // cache would be read from memory first, and these lines are not read again until the end.
                    var line = (byte*)cursor[b];
                    if (Avx.IsSupported)
                    {
                        Avx.StoreAlignedNonTemporal(line, Vector256.Load(half));
                        Avx.StoreAlignedNonTemporal(line + D, value);
                    }
                    else
                    {
                        Vector256.Load(half).Store(line);
                        value.Store(line + D);
                    }
                    cursor[b] += 2 * D;
                }
                counts[b]++;
            }
        }
        if (Sse.IsSupported)
        {
            // Streaming stores are weakly ordered: make them visible before the set may pass to another thread.
            Sse.StoreFence();
        }
    }

    /// <summary>
    /// Moves every digest of <paramref name="other"/> (filled on another thread) into this set; <paramref name="other"/>
    /// cannot be used afterwards. A bucket is a multiset, so whole pieces change hands without a copy (their arena arrays
    /// with them); only the digests of each bucket's last, partly filled piece are added again.
    /// </summary>
    public void Absorb(RowDigestSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        ObjectDisposedException.ThrowIf(_written, this);
        ObjectDisposedException.ThrowIf(other._written, other);
        if (ReferenceEquals(other, this))
        {
            throw new ArgumentException("a digest set cannot absorb itself", nameof(other));
        }
        other._written = true;
        if (other._pieces is null)
        {
            Add(other._flat.AsSpan(0, other._flatCount * D));
            return;
        }
        if (_pieces is null)
        {
            // This set is still flat: take the other's buckets whole, then add this set's few digests to them.
            var flat = _flat.AsSpan(0, _flatCount * D).ToArray();
            (_arena, _nextPiece, _pieces, _cursor, _end, _bucketCounts, _held, Count) =
                (other._arena, other._nextPiece, other._pieces, other._cursor, other._end, other._bucketCounts, other._held, other.Count);
            _flat = [];
            _flatCount = 0;
            Add(flat);
            return;
        }
        other.FlushHeld();
        // The other's pieces are renumbered past this set's arena arrays, which it appends to its own; new pieces start in a
        // fresh array, so a piece number keeps mapping to (array, offset).
        var offset = _arena!.Count * PiecesPerSegment;
        var partial = new List<(nint Start, int Bytes)>();
        for (var b = 0; b < 256; b++)
        {
            var list = other._pieces[b];
            if (list.Count == 0)
            {
                continue;
            }
            var last = other.PieceAddress(list[^1]);
            var lastBytes = (int)(other._cursor![b] - last);
            var full = lastBytes == PieceBytes ? list.Count : list.Count - 1;
            if (full > 0)
            {
                // Before this bucket's own pieces: its current (last) piece stays last, where its cursor points.
                _pieces[b].InsertRange(0, list.Take(full).Select(p => p + offset));
                _bucketCounts![b] += full * (PieceBytes / D); // an even number: the held-back half of this bucket stays valid
            }
            if (lastBytes is > 0 and < PieceBytes)
            {
                partial.Add((last, lastBytes));
            }
        }
        _arena.AddRange(other._arena!);
        _nextPiece = _arena.Count * PiecesPerSegment;
        Count += other.Count;
        foreach (var (start, bytes) in partial)
        {
            AddToBuckets(new ReadOnlySpan<byte>((byte*)start, bytes));
        }
    }

    /// <summary>Writes the held-back halves to their buckets.</summary>
    private void FlushHeld()
    {
        var counts = _bucketCounts!;
        fixed (byte* held = _held)
        {
            for (var b = 0; b < 256; b++)
            {
                if ((counts[b] & 1) == 0)
                {
                    continue;
                }
                if (_cursor![b] == _end![b])
                {
                    NewPiece(b);
                }
                Vector256.Load(held + (b * D)).Store((byte*)_cursor[b]);
                _cursor[b] += D;
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
        var piece = PieceAddress(number);
        _cursor![bucket] = piece;
        _end![bucket] = piece + PieceBytes;
    }

    private nint PieceAddress(int number) => ArenaPool.Aligned(_arena![number / PiecesPerSegment]) + (number % PiecesPerSegment * PieceBytes);

    /// <summary>
    /// Feeds every digest to <paramref name="hasher"/> in ascending byte order. Destroys the set's contents. With
    /// <paramref name="overlap"/>, buckets are sorted on this thread while another hashes the ones already sorted.
    /// </summary>
    public void WriteSorted(Blake3Hasher hasher, bool overlap = false)
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
        FlushHeld();
        var counts = _bucketCounts!;
        var largest = checked((int)(counts.Max() * D));
        using var feed = new SortedFeed(hasher, checked(FeedBytes + largest), overlap);
        var maxPieces = _pieces.Max(p => p.Count);
        var addresses = new nint[maxPieces];
        byte[]? gathered = null;
        for (var b = 0; b < 256; b++)
        {
            var n = (int)counts[b];
            if (n == 0)
            {
                continue;
            }
            var pieces = _pieces[b];
            for (var p = 0; p < pieces.Count; p++)
            {
                addresses[p] = PieceAddress(pieces[p]);
            }
            var bytes = n * D;
            var into = feed.Reserve(bytes);
            // Every digest here shares byte 0, so the sort starts at byte 1. The keys are read from the pieces
            // where the digests arrived and the digests copied once, in order, into the output.
            fixed (nint* table = addresses)
            {
                if (n <= DigestSort.MaxKeyed)
                {
                    DigestSort.SortPieces((byte**)table, n, 1, into);
                }
                else
                {
                    // Billions of rows: gather the bucket and sort it by radix passes.
                    gathered ??= ArrayPool<byte>.Shared.Rent(largest);
                    for (var at = 0; at < bytes; at += PieceBytes)
                    {
                        new ReadOnlySpan<byte>((byte*)table[at / PieceBytes], Math.Min(PieceBytes, bytes - at)).CopyTo(gathered.AsSpan(at));
                    }
                    DigestSort.SortInto(gathered.AsSpan(0, bytes), into, 1);
                }
            }
            feed.Commit(bytes);
        }
        feed.Complete();
        if (gathered is not null)
        {
            ArrayPool<byte>.Shared.Return(gathered);
        }
        _cursor = null;
        _end = null;
        foreach (var segment in _arena!)
        {
            ArenaPool.Return(segment);
        }
        _arena.Clear();
    }

    /// <summary>
    /// Where sorted buckets collect until <see cref="FeedBytes"/> are ready; the hasher then takes everything up to a
    /// multiple of BLAKE3's largest lanes-parallel subtree in its stream, so no bucket boundary breaks a subtree (which
    /// would cost scalar chunks and narrower lanes) and the short remainder moves to the front of the next buffer.
    /// Overlapped: two buffers, one filled here while another thread hashes the other.
    /// </summary>
    private sealed class SortedFeed : IDisposable
    {
        private readonly Blake3Hasher _hasher;
        private readonly byte[][] _buffers;
        private readonly BlockingCollection<byte[]>? _free;
        private readonly BlockingCollection<(byte[] Buffer, int Length)>? _full;
        private readonly Task? _hashing;
        private byte[] _current;
        private int _pending;
        private ulong _fed;
        private bool _completed;

        public SortedFeed(Blake3Hasher hasher, int capacity, bool overlap)
        {
            _hasher = hasher;
            _fed = hasher.Length;
            _buffers = overlap ? [ArrayPool<byte>.Shared.Rent(capacity), ArrayPool<byte>.Shared.Rent(capacity)] : [ArrayPool<byte>.Shared.Rent(capacity)];
            _current = _buffers[0];
            if (overlap)
            {
                _free = new BlockingCollection<byte[]>(new ConcurrentQueue<byte[]>([_buffers[1]]));
                _full = new BlockingCollection<(byte[], int)>();
                _hashing = Task.Run(() =>
                {
                    try
                    {
                        foreach (var (buffer, length) in _full.GetConsumingEnumerable())
                        {
                            _hasher.Update(buffer.AsSpan(0, length));
                            _free.Add(buffer);
                        }
                    }
                    finally
                    {
                        _free.CompleteAdding(); // should hashing fail, the sorting side's next Take fails instead of waiting forever
                    }
                });
            }
        }

        /// <summary>Room for the next <paramref name="bytes"/> sorted bytes.</summary>
        public Span<byte> Reserve(int bytes) => _current.AsSpan(_pending, bytes);

        public void Commit(int bytes)
        {
            _pending += bytes;
            if (_pending < FeedBytes)
            {
                return;
            }
            var take = (int)(((_fed + (ulong)_pending) / SubtreeBytes * SubtreeBytes) - _fed);
            _fed += (ulong)take;
            if (_full is null)
            {
                _hasher.Update(_current.AsSpan(0, take));
                _current.AsSpan(take, _pending - take).CopyTo(_current);
            }
            else
            {
                var next = _free!.Take();
                _current.AsSpan(take, _pending - take).CopyTo(next);
                _full.Add((_current, take));
                _current = next;
            }
            _pending -= take;
        }

        /// <summary>Hashes what is left and waits for the hashing thread: the hasher is complete when this returns.</summary>
        public void Complete()
        {
            _completed = true;
            if (_full is null)
            {
                _hasher.Update(_current.AsSpan(0, _pending));
                return;
            }
            _full.Add((_current, _pending));
            _full.CompleteAdding();
            _hashing!.GetAwaiter().GetResult();
        }

        public void Dispose()
        {
            if (_full is not null)
            {
                if (!_completed)
                {
                    // A sort failed: let the hashing thread finish what it has before the buffers go back to the pool.
                    _full.CompleteAdding();
                    ((Task)_hashing!).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().GetResult();
                }
                _full.Dispose();
                _free!.Dispose();
            }
            foreach (var buffer in _buffers)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
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
    private const int Alignment = 64;
    private static readonly System.Collections.Concurrent.ConcurrentStack<byte[]> s_free = new();

    // Each array has a spare cache line so that its usable 1 MiB can start on a line boundary.
    public static byte[] Rent() => s_free.TryPop(out var array) ? array : GC.AllocateUninitializedArray<byte>(Size + Alignment, pinned: true);

    /// <summary>The first cache-line-aligned byte of a rented (pinned) array; 1 MiB is usable from there.</summary>
    public static unsafe nint Aligned(byte[] array)
    {
        var address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (address + Alignment - 1) & ~(nint)(Alignment - 1);
    }

    public static void Return(byte[] array)
    {
        if (array.Length == Size + Alignment && s_free.Count < MaxRetained)
        {
            s_free.Push(array);
        }
    }
}

/// <summary>Most-significant-byte-first radix sort of 32-byte keys, in ascending unsigned lexicographic order.</summary>
internal static unsafe class DigestSort
{
    private const int D = Blake3Spec.OutLen;
    private const int SmallSort = 24;
    private const int PieceShift = 7; // 128 digests per 4 KiB piece
    private const int PieceMask = (1 << PieceShift) - 1;

    /// <summary>The most digests <see cref="SortPieces"/> sorts at once (the index takes at most 24 key bits).</summary>
    public const int MaxKeyed = 1 << 24;

    /// <summary>
    /// Sorts <paramref name="n"/> (at most <see cref="MaxKeyed"/>) digests sharing their first
    /// <paramref name="depth"/> bytes into <paramref name="dst"/>. Digest i is read at
    /// <c>pieces[i / 128] + 32 (i % 128)</c> (4 KiB pieces), so bucketed digests need no gathering first.
    /// </summary>
    /// <remarks>
    /// Only 64-bit keys move: bytes depth..depth+7 of each digest, big-endian, with the low bits replaced by
    /// the digest's index (as few bits as n needs). One counting pass on the key's top bits (about one key per
    /// slot for random digests), a sort of each slot's handful of keys, one copy of each 32-byte digest in key
    /// order, and a final pass that orders the rare runs whose key prefixes tie (mostly duplicate rows) by their
    /// full 32 bytes.
    /// </remarks>
    internal static unsafe void SortPieces(byte** pieces, int n, int depth, Span<byte> dst)
    {
        if ((uint)n > MaxKeyed || depth > D - 8)
        {
            throw new ArgumentOutOfRangeException(nameof(n));
        }
        if (dst.Length < n * D)
        {
            throw new ArgumentException("destination too short", nameof(dst));
        }
        if (n == 0)
        {
            return;
        }
        var indexBits = Math.Max(1, 32 - BitOperations.LeadingZeroCount((uint)(n - 1)));
        var indexMask = (1UL << indexBits) - 1;
        var slotBits = Math.Clamp(indexBits, 8, 16);
        var shift = 64 - slotBits;
        var keyArray = ArrayPool<ulong>.Shared.Rent(n);
        var sortedArray = ArrayPool<ulong>.Shared.Rent(n);
        var slotArray = ArrayPool<int>.Shared.Rent(1 << slotBits);
        fixed (ulong* keys = keyArray)
        fixed (ulong* sorted = sortedArray)
        fixed (int* slots = slotArray)
        fixed (byte* d0 = dst)
        {
            new Span<int>(slots, 1 << slotBits).Clear();
            var lastPiece = (n - 1) >> PieceShift;
            for (var i = 0; i < n; i++)
            {
                if (Sse.IsSupported && (i & 1) == 0 && (i >> PieceShift) < lastPiece)
                {
                    // Pieces lie apart in memory, so the hardware prefetcher stops at each piece's end:
                    // fetch the next piece's line while this one's is read.
                    Sse.Prefetch0(Address(pieces, i + (1 << PieceShift)));
                }
                var prefix = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(Address(pieces, i) + depth));
                var key = (prefix & ~indexMask) | (uint)i;
                keys[i] = key;
                slots[key >> shift]++;
            }
            var sum = 0;
            for (var s = 0; s < 1 << slotBits; s++)
            {
                var count = slots[s];
                slots[s] = sum;
                sum += count;
            }
            for (var i = 0; i < n; i++)
            {
                var key = keys[i];
                sorted[slots[key >> shift]++] = key;
            }
            // Keys are now ordered by their top slot bits; within a slot (about one key each) they may not be.
            // One insertion pass puts them in order. It moves few keys for random digests; should a slot hold
            // many keys of interleaved prefixes (heavily repeated rows), a budget of moves hands over to introsort.
            long budget = 4L * n;
            for (var i = 1; i < n; i++)
            {
                var key = sorted[i];
                if (sorted[i - 1] <= key)
                {
                    continue;
                }
                var j = i - 1;
                do
                {
                    sorted[j + 1] = sorted[j];
                    j--;
                }
                while (j >= 0 && sorted[j] > key);
                sorted[j + 1] = key;
                budget -= i - j;
                if (budget < 0)
                {
                    new Span<ulong>(sorted, n).Sort();
                    break;
                }
            }
            for (var i = 0; i < n; i++)
            {
                Vector256.Load(Address(pieces, (int)(sorted[i] & indexMask))).Store(d0 + ((nint)i * D));
            }
            // Runs with equal key prefixes are in index order, not byte order: order them by their full bytes.
            var prefixOf = ~indexMask;
            for (var i = 1; i < n; i++)
            {
                if (((sorted[i] ^ sorted[i - 1]) & prefixOf) != 0)
                {
                    continue;
                }
                var runStart = i - 1;
                while (i + 1 < n && ((sorted[i + 1] ^ sorted[runStart]) & prefixOf) == 0)
                {
                    i++;
                }
                new Span<Digest>(d0 + ((nint)runStart * D), i - runStart + 1).Sort();
            }
        }
        ArrayPool<ulong>.Shared.Return(keyArray);
        ArrayPool<ulong>.Shared.Return(sortedArray);
        ArrayPool<int>.Shared.Return(slotArray);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe byte* Address(byte** pieces, int i) => pieces[i >> PieceShift] + ((nint)(i & PieceMask) * D);

    /// <summary>A digest as four big-endian words, ordered like its bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Size = D)]
    private readonly struct Digest : IComparable<Digest>
    {
        private readonly ulong _a, _b, _c, _d;

        public int CompareTo(Digest other)
        {
            var c = BinaryPrimitives.ReverseEndianness(_a).CompareTo(BinaryPrimitives.ReverseEndianness(other._a));
            if (c == 0)
            {
                c = BinaryPrimitives.ReverseEndianness(_b).CompareTo(BinaryPrimitives.ReverseEndianness(other._b));
            }
            if (c == 0)
            {
                c = BinaryPrimitives.ReverseEndianness(_c).CompareTo(BinaryPrimitives.ReverseEndianness(other._c));
            }
            return c != 0 ? c : BinaryPrimitives.ReverseEndianness(_d).CompareTo(BinaryPrimitives.ReverseEndianness(other._d));
        }
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
            fixed (byte* s0 = src)
            {
                // The contiguous input seen as 4 KiB pieces.
                var count = (n + PieceMask) >> PieceShift;
                Span<nint> table = count <= 256 ? stackalloc nint[count] : new nint[count];
                for (var p = 0; p < count; p++)
                {
                    table[p] = (nint)(s0 + ((nint)p << (PieceShift + 5)));
                }
                fixed (nint* pieces = table)
                {
                    SortPieces((byte**)pieces, n, depth, dst);
                }
            }
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
