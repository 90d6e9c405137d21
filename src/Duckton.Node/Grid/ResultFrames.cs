using Duckton.Core.Data;
using Duckton.Core.Protocol;

namespace Duckton.Node.Grid;

/// <summary>The <c>Batch</c> frames a host streams for a committed result.</summary>
internal static class ResultFrames
{
    /// <summary>
    /// Batch frames of about <paramref name="chunkBytes"/> each (a single larger batch gets a frame of its own). A result
    /// whose batches are at hand in their wire encoding (a sandboxed job's, as its worker sent them) is forwarded as those
    /// bytes; any other result (in-process, or rows a simulated fault replaced) is encoded here.
    /// </summary>
    /// <exception cref="Worker.ResultTooLargeException">A single batch does not fit in <paramref name="maxFrameBytes"/>.</exception>
    public static IEnumerable<byte[]> Build(string jobId, ResultSet result, int chunkBytes, int maxFrameBytes)
    {
        var batches = result.Batches;
        var encodedBatches = batches as IEncodedBatches;
        var pending = new List<ReadOnlyMemory<byte>>();
        var size = 0;
        uint seq = 0;
        for (var i = 0; i < batches.Count; i++)
        {
            ReadOnlyMemory<byte> encoded = encodedBatches is not null ? encodedBatches.Encoded(i) : BatchCodec.EncodeBatch(batches[i]);
            if (encoded.Length + 64 > maxFrameBytes)
            {
                throw new Worker.ResultTooLargeException(
                    $"a result batch is {Worker.Size(encoded.Length)} encoded (a single value or row that large cannot be split); the frame limit is {Worker.Size(maxFrameBytes)} (network.max_frame_bytes)");
            }
            if (pending.Count > 0 && (size + encoded.Length > chunkBytes || pending.Count == ushort.MaxValue || size + encoded.Length + 64 > maxFrameBytes))
            {
                yield return BatchFrame.Encode(jobId, seq++, pending);
                pending = [];
                size = 0;
            }
            pending.Add(encoded);
            size += encoded.Length;
        }
        if (pending.Count > 0)
        {
            yield return BatchFrame.Encode(jobId, seq, pending);
        }
    }
}
