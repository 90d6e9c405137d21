using System.Buffers;
using System.Buffers.Binary;

namespace Duckton.Node.Grid.Execution;

/// <summary>
/// Frames between a host and its sandbox worker over the worker's stdin/stdout: one type byte, a u32 LE length, the
/// payload. Host to worker: <c>Q</c> (SQL), <c>C</c> cancel (u32 LE: the number of the job
/// to stop, counting <c>Q</c> frames from 1). Worker to host: <c>R</c> ready, <c>S</c> schema, <c>B</c> batch (wire
/// encoding), <c>D</c> done, <c>E</c> error message, <c>M</c> memory-limit message, <c>X</c> the job stopped on a cancel.
/// </summary>
internal static class SandboxPipe
{
    public const byte Ready = (byte)'R';
    public const byte Query = (byte)'Q';
    public const byte Schema = (byte)'S';
    public const byte Batch = (byte)'B';
    public const byte Done = (byte)'D';
    public const byte Error = (byte)'E';
    public const byte Memory = (byte)'M';
    public const byte Cancel = (byte)'C';
    public const byte Cancelled = (byte)'X';

    /// <summary>Largest frame either side accepts (a batch is a few MiB at most; the wire's own frame limit is 16 MiB).</summary>
    public const int MaxFrameBytes = 64 << 20;

    /// <summary>The type byte and the u32 LE length before each payload.</summary>
    public const int HeaderBytes = 5;

    /// <summary>Writes one frame to <paramref name="output"/> (a buffered stream: header and payload go out with its next flush).</summary>
    public static void Write(Stream output, byte type, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        WriteHeader(type, payload.Length, header);
        output.Write(header);
        output.Write(payload);
    }

    /// <summary>Writes the whole frame into <paramref name="destination"/> (at least <see cref="HeaderBytes"/> + the payload) and returns its length.</summary>
    public static int Encode(byte type, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        WriteHeader(type, payload.Length, destination);
        payload.CopyTo(destination[HeaderBytes..]);
        return HeaderBytes + payload.Length;
    }

    private static void WriteHeader(byte type, int payloadLength, Span<byte> destination)
    {
        destination[0] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[1..HeaderBytes], (uint)payloadLength);
    }

    /// <summary>
    /// Reads one frame into a pooled buffer (return it with <see cref="ArrayPool{T}.Shared"/>); null at end of stream.
    /// Blocking, for a thread of its own that does nothing else (the worker's stdin reader, the host's reader of a
    /// worker's output): a pipe has no asynchronous reads on Unix, so an asynchronous form would block a pool thread per
    /// read and hop threads to hand each frame back.
    /// </summary>
    public static (byte Type, byte[] Buffer, int Length)? Read(Stream input)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (input.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) < HeaderBytes)
        {
            return null;
        }
        var (buffer, length) = RentFor(header);
        try
        {
            input.ReadExactly(buffer, 0, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        return (header[0], buffer, length);
    }

    /// <summary>A pooled buffer for the payload the 5-byte <paramref name="header"/> announces; throws past <see cref="MaxFrameBytes"/>.</summary>
    private static (byte[] Buffer, int Length) RentFor(ReadOnlySpan<byte> header)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header[1..]);
        if (length > MaxFrameBytes)
        {
            throw new InvalidDataException($"a sandbox worker frame of {length} bytes exceeds the limit of {MaxFrameBytes} bytes");
        }
        return (ArrayPool<byte>.Shared.Rent((int)Math.Max(1, length)), (int)length);
    }
}
