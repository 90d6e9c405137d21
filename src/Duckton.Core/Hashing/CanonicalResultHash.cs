using System.Buffers;
using Duckton.Core.Data;

namespace Duckton.Core.Hashing;

/// <summary>
/// The canonical, order-independent BLAKE3 hash of a typed query result (byte-level
/// definition in docs/PROTOCOL.md, "Canonical result hash"):
/// <c>BLAKE3("duckton-result-v1" ‖ schema ‖ u64 row count ‖ sorted row digests)</c>, where each row digest is
/// <c>BLAKE3-derive_key("duckton-result-v1 row", canonical row encoding)</c>.
/// </summary>
public static class CanonicalResultHash
{
    /// <summary>The domain string that starts the final hash input.</summary>
    public const string Domain = "duckton-result-v1";

    /// <summary>The BLAKE3 derive-key context under which each row's encoding is hashed.</summary>
    public const string RowContext = "duckton-result-v1 row";

    /// <summary>Hashes a complete result.</summary>
    public static ResultDigest Compute(ResultSet result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var hasher = new CanonicalResultHasher(result.Schema);
        foreach (var batch in result.Batches)
        {
            hasher.Add(batch);
        }
        return hasher.Finish();
    }

    /// <summary>Hashes a schema and its batches, in any order and any split into batches.</summary>
    public static ResultDigest Compute(ResultSchema schema, IEnumerable<ResultBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var hasher = new CanonicalResultHasher(schema);
        foreach (var batch in batches)
        {
            hasher.Add(batch);
        }
        return hasher.Finish();
    }
}

/// <summary>
/// Incremental <see cref="CanonicalResultHash"/>: add batches as they arrive, then <see cref="Finish"/>.
/// The digest does not depend on row order or on how rows are split into batches; duplicates count.
/// </summary>
/// <remarks>
/// Rows are encoded column by column into a reusable buffer and their digests computed many at a time
/// with the SIMD lanes of <see cref="Blake3.HashMany(ReadOnlySpan{byte}, ReadOnlySpan{int}, Span{byte})"/>;
/// nothing is allocated per row. Memory: 32 bytes per row until <see cref="Finish"/>. Not thread-safe.
/// </remarks>
internal sealed class CanonicalResultHasher
{
    /// <summary>Rows encoded and hashed per round: small enough for the buffers to stay in cache.</summary>
    private const int SliceRows = 1024;

    private static readonly Words8 s_rowKey = Blake3.ContextKey(CanonicalResultHash.RowContext);

    private readonly CellCodec[] _codecs;
    private readonly byte[] _schemaBytes;
    private readonly RowDigestSet _digests = new();
    private readonly int _maxLanes;
    // Sized to the largest slice seen (at most SliceRows rows): a one-row result does not pay for a thousand rows' buffers.
    private int[] _offsets = [0];
    private int[] _cursors = [];
    private byte[] _rowDigests = [];
    private byte[] _rowBytes = [];
    private bool _finished;

    /// <summary>A hasher for results of <paramref name="schema"/>; every added batch must have this schema.</summary>
    public CanonicalResultHasher(ResultSchema schema)
        : this(schema, 0)
    {
    }

    internal CanonicalResultHasher(ResultSchema schema, int maxLanes)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the canonical result hash is implemented for little-endian machines");
        }
        Schema = schema;
        _maxLanes = maxLanes;
        _codecs = [.. schema.Types.Select(CellCodec.For)];
        var writer = new ArrayBufferWriter<byte>();
        CanonicalEncoding.WriteSchema(writer, schema);
        _schemaBytes = writer.WrittenSpan.ToArray();
    }

    public ResultSchema Schema { get; }

    /// <summary>Rows added so far.</summary>
    public long RowCount { get; private set; }

    /// <summary>Adds every row of <paramref name="batch"/>.</summary>
    public void Add(ResultBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_finished, this);
        if (!ReferenceEquals(batch.Schema, Schema) && !batch.Schema.Equals(Schema))
        {
            throw new ArgumentException("the batch's schema differs from the hasher's", nameof(batch));
        }
        for (var c = 0; c < _codecs.Length; c++)
        {
            var column = batch.Columns[c];
            if (!ReferenceEquals(column.Type, Schema.Types[c]) && !column.Type.Equals(Schema.Types[c]))
            {
                throw new ArgumentException($"column {c} holds {column.Type}, the schema says {Schema.Types[c]}", nameof(batch));
            }
            if (column.Length < batch.RowCount)
            {
                throw new ArgumentException($"column {c} has {column.Length} rows, the batch {batch.RowCount}", nameof(batch));
            }
        }
        for (var start = 0; start < batch.RowCount; start += SliceRows)
        {
            HashSlice(batch, start, Math.Min(SliceRows, batch.RowCount - start));
        }
        RowCount += batch.RowCount;
    }

    private void HashSlice(ResultBatch batch, int start, int count)
    {
        if (_cursors.Length < count)
        {
            var rows = Math.Min(SliceRows, Math.Max(count, 2 * _cursors.Length));
            _offsets = new int[rows + 1];
            _cursors = new int[rows];
            _rowDigests = new byte[rows * Blake3Spec.OutLen];
        }
        // 1. The size of every row's encoding, column by column.
        var lengths = _offsets.AsSpan(1, count);
        lengths.Clear();
        for (var c = 0; c < _codecs.Length; c++)
        {
            _codecs[c].MeasureColumn(batch.Columns[c], start, count, lengths);
        }
        _offsets[0] = 0;
        long total = 0;
        for (var i = 1; i <= count; i++)
        {
            total += _offsets[i];
            if (total > Array.MaxLength / 2)
            {
                // Enormous rows: hash this slice in halves so offsets stay within int.
                var half = count / 2;
                if (half == 0)
                {
                    throw new InvalidDataException("a single row's canonical encoding exceeds 1 GiB");
                }
                HashSlice(batch, start, half);
                HashSlice(batch, start + half, count - half);
                return;
            }
            _offsets[i] = (int)total;
        }
        if (_rowBytes.Length < total)
        {
            _rowBytes = new byte[Math.Max(total, 2L * _rowBytes.Length)];
        }

        // 2. Encode: each column appends its cell to every row.
        var cursors = _cursors.AsSpan(0, count);
        _offsets.AsSpan(0, count).CopyTo(cursors);
        var buffer = _rowBytes.AsSpan(0, (int)total);
        for (var c = 0; c < _codecs.Length; c++)
        {
            _codecs[c].WriteColumn(batch.Columns[c], start, count, buffer, cursors);
        }
        for (var i = 0; i < count; i++)
        {
            if (cursors[i] != _offsets[i + 1])
            {
                throw new InvalidOperationException($"row {start + i} encoded to {cursors[i] - _offsets[i]} bytes, measured {_offsets[i + 1] - _offsets[i]}");
            }
        }

        // 3. One digest per row, many rows per SIMD pass.
        var digests = _rowDigests.AsSpan(0, count * Blake3Spec.OutLen);
        Blake3.HashManyCore(buffer, _offsets.AsSpan(0, count + 1), digests, in s_rowKey, Blake3Spec.DeriveKeyMaterial, _maxLanes);
        _digests.Add(digests);
    }

    /// <summary>
    /// Moves every row added to <paramref name="other"/> (a hasher of the same schema, fed on another thread) into this
    /// one: the hash is over the multiset of rows, so it does not depend on which hasher took which rows. <paramref name="other"/>
    /// cannot be used afterwards.
    /// </summary>
    public void Absorb(CanonicalResultHasher other)
    {
        ArgumentNullException.ThrowIfNull(other);
        ObjectDisposedException.ThrowIf(_finished, this);
        ObjectDisposedException.ThrowIf(other._finished, other);
        if (ReferenceEquals(other, this))
        {
            throw new ArgumentException("a hasher cannot absorb itself", nameof(other));
        }
        if (!other.Schema.Equals(Schema))
        {
            throw new ArgumentException("the other hasher's schema differs from this one's", nameof(other));
        }
        other._finished = true;
        _digests.Absorb(other._digests);
        RowCount += other.RowCount;
    }

    /// <summary>
    /// The digest of every row added. The hasher cannot be used afterwards. <paramref name="overlapSort"/>: sort the row
    /// digests on this thread while another hashes those already sorted (for a caller with a core to spare).
    /// </summary>
    public ResultDigest Finish(bool overlapSort = false)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        _finished = true;
        var hasher = new Blake3Hasher();
        hasher.Update("duckton-result-v1"u8);
        hasher.Update(_schemaBytes);
        Span<byte> count = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(count, (ulong)RowCount);
        hasher.Update(count);
        _digests.WriteSorted(hasher, overlapSort);
        Span<byte> digest = stackalloc byte[ResultDigest.Size];
        hasher.Finalize(digest);
        return new ResultDigest(digest);
    }
}
