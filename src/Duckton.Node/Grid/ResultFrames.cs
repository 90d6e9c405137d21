using System.Buffers;
using Duckton.Core.Data;
using Duckton.Core.Protocol;

namespace Duckton.Node.Grid;

/// <summary>One <c>Batch</c> frame's payload in a pooled buffer; disposing it returns the buffer (once the frame is sent).</summary>
internal sealed class PooledFrame(byte[] buffer, int length) : IDisposable
{
    private byte[]? _buffer = buffer;

    public ReadOnlyMemory<byte> Payload => (_buffer ?? throw new ObjectDisposedException(nameof(PooledFrame))).AsMemory(0, length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}

/// <summary>The <c>Batch</c> frames a host streams for a committed result.</summary>
internal static class ResultFrames
{
    /// <summary>
    /// All of a result's Batch frames when their payloads come to at most <paramref name="limit"/> bytes (to send with the
    /// commit, unasked), or null when they do not (nothing is kept). A forwarded result's size is known without copying;
    /// any other is encoded until it passes the limit.
    /// </summary>
    public static List<PooledFrame>? BuildIfWithin(string jobId, ResultSet result, int chunkBytes, int maxFrameBytes, long limit)
    {
        if (result.Batches is IEncodedBatches forwarded)
        {
            long encoded = 0;
            for (var i = 0; i < forwarded.Count && encoded <= limit; i++)
            {
                encoded += forwarded.EncodedLength(i);
            }
            if (encoded > limit)
            {
                return null;
            }
        }
        var frames = new List<PooledFrame>(1);
        long total = 0;
        try
        {
            foreach (var frame in Build(jobId, result, chunkBytes, maxFrameBytes))
            {
                frames.Add(frame);
                total += frame.Payload.Length;
                if (total > limit)
                {
                    break;
                }
            }
        }
        catch (Worker.ResultTooLargeException)
        {
            total = long.MaxValue; // sent the usual way, which says so
        }
        if (total <= limit)
        {
            return frames;
        }
        frames.ForEach(f => f.Dispose());
        return null;
    }

    /// <summary>
    /// Batch frames of about <paramref name="chunkBytes"/> each (a single larger batch gets a frame of its own), in pooled
    /// buffers the caller disposes once sent. A result whose batches are at hand in their wire encoding (a sandboxed job's,
    /// as its worker sent them) is forwarded as those bytes, copied (or read from the spill file) straight into the frame;
    /// any other result (in-process, or rows a simulated fault replaced) is encoded here.
    /// </summary>
    /// <exception cref="Worker.ResultTooLargeException">A single batch does not fit in <paramref name="maxFrameBytes"/>.</exception>
    public static IEnumerable<PooledFrame> Build(string jobId, ResultSet result, int chunkBytes, int maxFrameBytes)
    {
        var batches = result.Batches;
        var forwarded = batches as IEncodedBatches;
        byte[]?[] encoded = forwarded is null ? new byte[batches.Count][] : [];
        var first = 0;
        long size = 0;
        uint seq = 0;
        for (var i = 0; i < batches.Count; i++)
        {
            int length;
            if (forwarded is not null)
            {
                length = forwarded.EncodedLength(i);
            }
            else
            {
                encoded[i] = BatchCodec.EncodeBatch(batches[i]);
                length = encoded[i]!.Length;
            }
            if (length + 64 > maxFrameBytes)
            {
                throw new Worker.ResultTooLargeException(
                    $"a result batch is {Worker.Size(length)} encoded (a single value or row that large cannot be split); the frame limit is {Worker.Size(maxFrameBytes)} (network.max_frame_bytes)");
            }
            var count = i - first;
            if (count > 0 && (size + length > chunkBytes || count == ushort.MaxValue || size + length + 64 > maxFrameBytes))
            {
                yield return Frame(first, i, size);
                first = i;
                size = 0;
            }
            size += length;
        }
        if (batches.Count > first)
        {
            yield return Frame(first, batches.Count, size);
        }

        PooledFrame Frame(int from, int to, long bytes)
        {
            var length = BatchFrame.Size(to - from, bytes);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            var frame = new PooledFrame(buffer, length);
            try
            {
                var at = BatchFrame.WriteHeader(buffer, jobId, seq++, to - from);
                for (var b = from; b < to; b++)
                {
                    var n = forwarded?.EncodedLength(b) ?? encoded[b]!.Length;
                    at = BatchFrame.WriteBatchLength(buffer, at, n);
                    if (forwarded is not null)
                    {
                        forwarded.CopyEncoded(b, buffer.AsSpan(at, n));
                    }
                    else
                    {
                        encoded[b].AsSpan().CopyTo(buffer.AsSpan(at));
                        encoded[b] = null; // sent once: let it go
                    }
                    at += n;
                }
                return frame;
            }
            catch
            {
                frame.Dispose();
                throw;
            }
        }
    }
}
