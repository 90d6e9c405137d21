using System.Buffers;
using System.Buffers.Binary;

namespace Duckton.Transport;

/// <summary>
/// Writes frames <c>[u32 LE payload length][u8 version = 1][u8 type][payload]</c> to any byte stream. Not thread-safe:
/// <see cref="PeerConnection"/> serialises its senders.
/// </summary>
internal sealed class FrameWriter
{
    /// <summary>
    /// Frames up to this size are copied with their header into one pooled buffer and written with one call (one TLS record
    /// sequence, one syscall). Larger payloads go out as header + first 16 KiB (one full TLS record), then the rest in place.
    /// </summary>
    private const int CoalesceLimit = 64 << 10;

    /// <summary>The TLS 1.3 maximum record plaintext: the first write of a large frame fills exactly one record.</summary>
    private const int TlsRecord = 16 << 10;

    private readonly Stream _stream;

    public FrameWriter(Stream stream, int maxFrameBytes = FrameFormat.DefaultMaxFrameBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFrameBytes);
        _stream = stream;
        MaxFrameBytes = maxFrameBytes;
    }

    /// <summary>Largest payload this writer sends; the peer's reader enforces its own limit.</summary>
    public int MaxFrameBytes { get; }

    /// <summary>Writes one frame.</summary>
    /// <exception cref="ArgumentException">The payload exceeds <see cref="MaxFrameBytes"/> (nothing was written).</exception>
    public async ValueTask WriteAsync(MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ThrowIfOverLimit(type, payload.Length, nameof(payload));
        var total = FrameFormat.HeaderLength + payload.Length;
        var head = Math.Min(total, total <= CoalesceLimit ? total : TlsRecord);
        var rented = ArrayPool<byte>.Shared.Rent(head);
        try
        {
            WriteHeader(rented, type, payload.Length);
            var inHead = head - FrameFormat.HeaderLength;
            payload.Span[..inHead].CopyTo(rented.AsSpan(FrameFormat.HeaderLength));
            await _stream.WriteAsync(rented.AsMemory(0, head), cancellationToken).ConfigureAwait(false);
            if (inHead < payload.Length)
            {
                await _stream.WriteAsync(payload[inHead..], cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Writes several frames in order; when they come to at most <see cref="CoalesceLimit"/> bytes with their headers they
    /// go out in one write (one TLS record sequence, one syscall), otherwise one by one.
    /// </summary>
    /// <exception cref="ArgumentException">A payload exceeds <see cref="MaxFrameBytes"/> (nothing was written).</exception>
    public async ValueTask WriteManyAsync(IReadOnlyList<(MessageType Type, ReadOnlyMemory<byte> Payload)> frames, CancellationToken cancellationToken = default)
    {
        long total = 0;
        foreach (var (type, payload) in frames)
        {
            ThrowIfOverLimit(type, payload.Length, nameof(frames));
            total += FrameFormat.HeaderLength + payload.Length;
        }
        if (total > CoalesceLimit)
        {
            foreach (var (type, payload) in frames)
            {
                await WriteAsync(type, payload, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        var rented = ArrayPool<byte>.Shared.Rent((int)total);
        try
        {
            var at = 0;
            foreach (var (type, payload) in frames)
            {
                WriteHeader(rented.AsSpan(at), type, payload.Length);
                payload.Span.CopyTo(rented.AsSpan(at + FrameFormat.HeaderLength));
                at += FrameFormat.HeaderLength + payload.Length;
            }
            await _stream.WriteAsync(rented.AsMemory(0, at), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void ThrowIfOverLimit(MessageType type, int length, string parameter)
    {
        if (length > MaxFrameBytes)
        {
            throw new ArgumentException($"a {type} payload of {length} bytes exceeds the frame limit of {MaxFrameBytes} bytes; split it into several frames", parameter);
        }
    }

    /// <summary>Writes a frame header into <paramref name="destination"/> (at least <see cref="FrameFormat.HeaderLength"/> bytes).</summary>
    public static void WriteHeader(Span<byte> destination, MessageType type, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payloadLength);
        destination[4] = FrameFormat.Version;
        destination[5] = (byte)type;
    }
}
