using System.Buffers;

namespace Duckton.Core.Data;

/// <summary>A list of batches whose wire encoding is at hand, so a sender can forward those bytes instead of encoding the batches again.</summary>
internal interface IEncodedBatches : IReadOnlyList<ResultBatch>
{
    /// <summary>The wire encoding (<see cref="BatchCodec"/>) of batch <paramref name="index"/>, exactly as it was added. Read-only; it stays valid after the list is disposed.</summary>
    ReadOnlyMemory<byte> Encoded(int index);

    /// <summary>The length of batch <paramref name="index"/>'s wire encoding (nothing is read).</summary>
    int EncodedLength(int index);

    /// <summary>Copies batch <paramref name="index"/>'s wire encoding into <paramref name="destination"/> (exactly <see cref="EncodedLength"/> bytes): a spilled batch is read from the file straight into it.</summary>
    void CopyEncoded(int index, Span<byte> destination);
}

/// <summary>
/// The batches of a result a host holds to forward: kept in the wire encoding they arrived in (only their header is
/// read, for the row count), in memory up to a byte budget, beyond it appended to an owner-only spill file (the same
/// files and directory rules as <see cref="SpooledBatches"/>), deleted on <see cref="Dispose"/>. Forwarding reads the
/// bytes back as they are; a reader of the rows gets each batch decoded on demand.
/// </summary>
/// <remarks>
/// Decoding keeps only the last batch: a sequential scan holds one decoded batch, not the result. The batch bodies are
/// not checked here; whoever decodes them (the requester, or a reader on this side) does, with the hardened decoder.
/// </remarks>
internal sealed class EncodedSpool : IEncodedBatches, IDisposable
{
    private readonly ResultSchema _schema;
    private readonly long _memoryBudget;
    private readonly string _directory;
    private readonly CodecLimits _limits;
    private readonly List<byte[]> _memory = [];
    private readonly List<int> _rows = [];
    private readonly Lock _gate = new();
    private readonly SpillFile _spill;
    private long _memoryBytes;
    private int _cachedIndex = -1;
    private ResultBatch? _cached;
    private int _decoded;
    private bool _disposed;

    /// <param name="memoryBudget">Encoded bytes kept in memory before spilling (0 = spill everything).</param>
    /// <param name="directory">Where the spill file goes; created owner-only (0700) if missing.</param>
    public EncodedSpool(ResultSchema schema, long memoryBudget, string directory, CodecLimits? limits = null)
    {
        _schema = schema;
        _memoryBudget = Math.Max(0, memoryBudget);
        _directory = directory;
        _limits = limits ?? CodecLimits.Default;
        _spill = new SpillFile(directory);
    }

    public ResultSchema Schema => _schema;

    /// <summary>The spill file while it exists, else null (nothing spilled, or disposed).</summary>
    public string? FilePath => _spill.Path;

    public bool Spilled => _spill.Count > 0;
    public long SpilledBytes => _spill.Length;
    public long MemoryBytes => _memoryBytes;
    public long RowCount { get; private set; }
    public int Count => _memory.Count + _spill.Count;

    /// <summary>How many batches were decoded on demand so far (none for a result that is only forwarded).</summary>
    public int Decoded => Volatile.Read(ref _decoded);

    /// <summary>The row count of batch <paramref name="index"/>, from its header.</summary>
    public int RowCountOf(int index) => _rows[index];

    /// <summary>
    /// Appends one encoded batch (copied: <paramref name="encoded"/> may be a pooled buffer the caller reuses) and returns
    /// its row count. Only the header is decoded.
    /// </summary>
    /// <exception cref="CodecException">The header is not a batch header of this schema (nothing is added).</exception>
    public int Add(ReadOnlySpan<byte> encoded)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var rows = BatchCodec.ReadBatchRowCount(encoded, _schema, _limits);
        // Order is kept by never going back to memory once spilling started.
        if (_spill.Count == 0 && _memoryBytes + encoded.Length <= _memoryBudget)
        {
            _memory.Add(encoded.ToArray());
            _memoryBytes += encoded.Length;
        }
        else
        {
            lock (_gate)
            {
                _spill.Append(encoded);
            }
        }
        _rows.Add(rows);
        RowCount += rows;
        return rows;
    }

    public ReadOnlyMemory<byte> Encoded(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }
        if (index < _memory.Count)
        {
            return _memory[index];
        }
        // A fresh array the caller owns: a pooled one could be reused while a frame still points at it.
        var bytes = GC.AllocateUninitializedArray<byte>(EncodedLength(index));
        CopyEncoded(index, bytes);
        return bytes;
    }

    public int EncodedLength(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }
        if (index < _memory.Count)
        {
            return _memory[index].Length;
        }
        lock (_gate)
        {
            return _spill.LengthOf(index - _memory.Count);
        }
    }

    public void CopyEncoded(int index, Span<byte> destination)
    {
        var length = EncodedLength(index);
        ArgumentOutOfRangeException.ThrowIfNotEqual(destination.Length, length, nameof(destination));
        if (index < _memory.Count)
        {
            _memory[index].CopyTo(destination);
            return;
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _spill.Read(index - _memory.Count, destination);
        }
    }

    public ResultBatch this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (index == _cachedIndex)
                {
                    return _cached!;
                }
                ResultBatch batch;
                if (index < _memory.Count)
                {
                    batch = BatchCodec.DecodeBatch(_memory[index], _schema, _limits);
                }
                else
                {
                    var spilled = index - _memory.Count;
                    var length = _spill.LengthOf(spilled);
                    var buffer = ArrayPool<byte>.Shared.Rent(length);
                    try
                    {
                        _spill.Read(spilled, buffer.AsSpan(0, length));
                        // The decoded batch copies what it keeps, so the buffer goes back to the pool right after.
                        batch = BatchCodec.DecodeBatch(buffer.AsSpan(0, length), _schema, _limits);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
                Interlocked.Increment(ref _decoded);
                (_cached, _cachedIndex) = (batch, index);
                return batch;
            }
        }
    }

    public IEnumerator<ResultBatch> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _cached = null;
            _memory.Clear();
            _spill.Dispose();
        }
    }
}
