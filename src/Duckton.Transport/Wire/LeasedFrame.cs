using System.Buffers;

namespace Duckton.Transport;

/// <summary>
/// A received frame whose payload lives in a buffer rented from <see cref="ArrayPool{T}.Shared"/>. Dispose it exactly once when
/// done; <see cref="Payload"/> must not be used afterwards (it throws once disposed, but a copy of the memory taken earlier would
/// see the buffer's next user).
/// </summary>
public sealed class LeasedFrame : IDisposable
{
    private readonly int _length;
    private byte[]? _buffer;

    internal LeasedFrame(MessageType type, byte[]? buffer, int length)
    {
        Type = type;
        _buffer = buffer;
        _length = length;
        IsEmpty = buffer is null;
    }

    /// <summary>The message type.</summary>
    public MessageType Type { get; }

    private bool IsEmpty { get; }

    /// <summary>The payload, valid until <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Payload => _buffer is { } b
        ? b.AsMemory(0, _length)
        : IsEmpty ? ReadOnlyMemory<byte>.Empty : throw new ObjectDisposedException(nameof(LeasedFrame));

    /// <summary>Copies the payload into a <see cref="Frame"/> that owns its bytes.</summary>
    public Frame ToFrame() => new(Type, Payload.ToArray());

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
