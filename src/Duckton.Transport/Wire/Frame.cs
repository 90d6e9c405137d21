namespace Duckton.Transport;

/// <summary>
/// One received frame. <see cref="Payload"/> is a fresh array owned by the receiver: it stays valid after later receives and
/// is never returned to a pool.
/// </summary>
public readonly record struct Frame(MessageType Type, ReadOnlyMemory<byte> Payload);

/// <summary>Constants of the frame layout <c>[u32 LE payload length][u8 frame version][u8 message type][payload]</c>.</summary>
public static class FrameFormat
{
    /// <summary>Bytes before the payload: length (4), version (1), type (1).</summary>
    public const int HeaderLength = 6;

    /// <summary>The only frame version this node reads and writes.</summary>
    public const byte Version = 1;

    /// <summary>Default largest payload: 16 MiB.</summary>
    public const int DefaultMaxFrameBytes = 16 << 20;

    /// <summary>Smallest configurable payload limit; below it a handshake frame might not fit.</summary>
    public const int MinMaxFrameBytes = 4 << 10;

    /// <summary>Largest configurable payload limit (1 GiB): one frame must fit a single array.</summary>
    public const int MaxMaxFrameBytes = 1 << 30;

    /// <summary>Payload limit while the handshake is in progress (before the peer is authenticated): 64 KiB.</summary>
    public const int HandshakeMaxFrameBytes = 64 << 10;
}
