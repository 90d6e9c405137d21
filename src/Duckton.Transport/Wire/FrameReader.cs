using System.Buffers;
using System.Buffers.Binary;

namespace Duckton.Transport;

/// <summary>
/// Reads frames <c>[u32 LE payload length][u8 version = 1][u8 type][payload]</c> from any byte stream (TLS, QUIC stream, memory).
/// One reader at a time.
/// </summary>
/// <remarks>
/// <para>
/// Bytes are read into a pooled 64 KiB buffer, so a burst of small frames costs one read call. A payload is copied into a fresh
/// array (the <see cref="Frame"/> owns it); a large payload's tail is read straight from the stream into that array.
/// </para>
/// <para>
/// The declared length is checked against <see cref="MaxFrameBytes"/> before anything is allocated, and even a length within
/// the limit is never trusted up front: the payload array starts at most 1 MiB and doubles only as bytes actually arrive,
/// so a peer that announces 16 MiB and sends ten bytes costs 1 MiB, not 16. With a <see cref="FrameMemoryBudget"/>, a frame
/// above 64 KiB first reserves its declared size from the budget (waiting for room, bounded), then gets one array of that size.
/// </para>
/// </remarks>
internal sealed class FrameReader : IDisposable
{
    /// <summary>Receive buffer: 64 KiB holds four full 16 KiB TLS records, the most one socket read usually returns.</summary>
    private const int BufferSize = 64 << 10;

    /// <summary>First payload allocation for a frame whose bytes have not arrived yet.</summary>
    private const int InitialPayloadChunk = 1 << 20;

    private readonly Stream _stream;
    private byte[]? _buffer;
    private int _start;
    private int _count;
    private int _maxFrameBytes;

    public FrameReader(Stream stream, int maxFrameBytes = FrameFormat.DefaultMaxFrameBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        MaxFrameBytes = maxFrameBytes;
        _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    }

    /// <summary>Largest accepted payload, in bytes; a longer declared length is a <see cref="FrameError.TooLarge"/> error.</summary>
    public int MaxFrameBytes
    {
        get => _maxFrameBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, FrameFormat.MaxMaxFrameBytes);
            _maxFrameBytes = value;
        }
    }

    /// <summary>Shared memory budget large frames reserve from while being read (null: none); set once the peer is known.</summary>
    internal FrameMemoryBudget? Budget { get; set; }

    /// <summary>Whose share of <see cref="Budget"/> this reader's frames count against (the peer's node id).</summary>
    internal string BudgetKey { get; set; } = "";

    /// <summary>Bytes received but not yet returned as part of a frame.</summary>
    public int BufferedBytes => _count;

    /// <summary>The type of the next frame when its header is already buffered (the peer wrote it with the frames read so far); else null.</summary>
    public MessageType? BufferedFrameType => _count >= FrameFormat.HeaderLength && _buffer is { } b ? (MessageType)b[_start + FrameFormat.HeaderLength - 1] : null;

    /// <summary>Reads the next frame.</summary>
    /// <exception cref="EndOfStreamException">The stream ended cleanly, between two frames.</exception>
    /// <exception cref="FrameException">The frame is too large, has an unknown version, or the stream ended inside it.</exception>
    public async ValueTask<Frame> ReadAsync(CancellationToken cancellationToken = default)
    {
        var (type, payload, length) = await ReadCoreAsync(pooled: false, cancellationToken).ConfigureAwait(false);
        return new Frame(type, payload is null ? ReadOnlyMemory<byte>.Empty : payload.AsMemory(0, length));
    }

    /// <summary>
    /// Reads the next frame into a buffer rented from <see cref="ArrayPool{T}.Shared"/>; dispose the result to return it. For bulk
    /// streams (result batches) where a fresh array per frame would cost a large-object allocation each time.
    /// </summary>
    /// <exception cref="EndOfStreamException">The stream ended cleanly, between two frames.</exception>
    /// <exception cref="FrameException">The frame is too large, has an unknown version, or the stream ended inside it.</exception>
    public async ValueTask<LeasedFrame> ReadLeasedAsync(CancellationToken cancellationToken = default)
    {
        var (type, payload, length) = await ReadCoreAsync(pooled: true, cancellationToken).ConfigureAwait(false);
        return new LeasedFrame(type, payload, length);
    }

    private async ValueTask<(MessageType Type, byte[]? Payload, int Length)> ReadCoreAsync(bool pooled, CancellationToken cancellationToken)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(FrameReader));
        while (_count < FrameFormat.HeaderLength)
        {
            if (!await FillAsync(buffer, cancellationToken).ConfigureAwait(false))
            {
                if (_count == 0)
                {
                    throw new EndOfStreamException("the peer closed the connection");
                }
                throw new FrameException(FrameError.Truncated,
                    $"the connection closed inside a frame header ({_count} of {FrameFormat.HeaderLength} bytes)");
            }
        }
        var header = buffer.AsSpan(_start, FrameFormat.HeaderLength);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var version = header[4];
        var type = (MessageType)header[5];
        if (version != FrameFormat.Version)
        {
            throw new FrameException(FrameError.UnsupportedVersion,
                $"frame version {version} is not supported (this node reads frame version {FrameFormat.Version}); closing the connection");
        }
        if (length > (uint)MaxFrameBytes)
        {
            throw new FrameException(FrameError.TooLarge,
                $"frame of {length} bytes ({type}) exceeds the limit of {MaxFrameBytes} bytes; closing the connection");
        }
        _start += FrameFormat.HeaderLength;
        _count -= FrameFormat.HeaderLength;
        if (length == 0)
        {
            return (type, null, 0);
        }

        var total = (int)length;
        var budget = total > FrameMemoryBudget.ReserveThreshold ? Budget : null;
        if (budget is not null)
        {
            await budget.ReserveAsync(BudgetKey, total, type, cancellationToken).ConfigureAwait(false);
        }
        byte[] payload;
        try
        {
            // Reserved in full: one array of the final size (no doubling garbage). Unbudgeted: grow only as bytes arrive.
            payload = Allocate(budget is not null ? total : Math.Min(total, InitialPayloadChunk), pooled);
        }
        catch
        {
            budget?.Release(BudgetKey, total);
            throw;
        }
        try
        {
            var filled = Math.Min(_count, total);
            buffer.AsSpan(_start, filled).CopyTo(payload);
            _start += filled;
            _count -= filled;
            if (_count == 0)
            {
                _start = 0;
            }
            while (filled < total)
            {
                if (filled == payload.Length)
                {
                    var grown = Allocate((int)Math.Min((long)payload.Length * 2, total), pooled);
                    payload.AsSpan(0, filled).CopyTo(grown);
                    Release(payload, pooled);
                    payload = grown;
                }
                var n = await _stream.ReadAsync(payload.AsMemory(filled, Math.Min(payload.Length, total) - filled), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new FrameException(FrameError.Truncated,
                        $"the connection closed inside a {type} frame ({filled} of {total} payload bytes)");
                }
                filled += n;
            }
            return (type, payload, total);
        }
        catch
        {
            Release(payload, pooled);
            throw;
        }
        finally
        {
            // The budget bounds frames being read; a returned frame belongs to its handler.
            budget?.Release(BudgetKey, total);
        }
    }

    private static byte[] Allocate(int size, bool pooled) =>
        pooled ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);

    private static void Release(byte[] array, bool pooled)
    {
        if (pooled)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = null;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask<bool> FillAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(buffer, _start, buffer, 0, _count);
            _start = 0;
        }
        var n = await _stream.ReadAsync(buffer.AsMemory(_count, BufferSize - _count), cancellationToken).ConfigureAwait(false);
        _count += n;
        return n > 0;
    }
}
