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

    public static void Write(Stream output, byte type, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[5];
        header[0] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(header[1..], (uint)payload.Length);
        output.Write(header);
        output.Write(payload);
    }

    public static async ValueTask WriteAsync(Stream output, byte type, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var header = new byte[5];
        header[0] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(1), (uint)payload.Length);
        await output.WriteAsync(header, ct).ConfigureAwait(false);
        await output.WriteAsync(payload, ct).ConfigureAwait(false);
        await output.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Reads one frame into a pooled buffer (return it with <see cref="ArrayPool{T}.Shared"/>); null at end of stream.</summary>
    public static async ValueTask<(byte Type, byte[] Buffer, int Length)?> ReadAsync(Stream input, CancellationToken ct)
    {
        var header = new byte[5];
        var got = await input.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        if (got < 5)
        {
            return null;
        }
        var (buffer, length) = RentFor(header);
        try
        {
            await input.ReadExactlyAsync(buffer.AsMemory(0, length), ct).ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        return (header[0], buffer, length);
    }

    /// <summary>
    /// As <see cref="ReadAsync"/>, blocking: for a thread of its own that does nothing else (the worker's stdin reader).
    /// A pipe has no asynchronous reads on Unix, so the asynchronous form would block a pool thread per frame and hop
    /// threads to hand the frame back.
    /// </summary>
    public static (byte Type, byte[] Buffer, int Length)? Read(Stream input)
    {
        Span<byte> header = stackalloc byte[5];
        if (input.ReadAtLeast(header, 5, throwOnEndOfStream: false) < 5)
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
