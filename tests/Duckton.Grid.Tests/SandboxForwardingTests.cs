using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Core.Hashing;
using Duckton.Core.Protocol;
using Duckton.Engine;
using Duckton.Node.Grid;
using Duckton.Node.Grid.Execution;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Grid.Tests;

/// <summary>
/// A sandboxed job's result leaves the host as its worker encoded it: the host neither decodes it on receive nor
/// encodes it again for the fetch, and the requester still decodes it to the rows and the hash the worker committed to.
/// </summary>
public sealed class SandboxForwardingTests
{
    private static readonly IReadOnlyList<string> s_worker = ["dotnet", Path.Combine(AppContext.BaseDirectory, "duckton.dll")];
    private const string JobId = "00112233445566778899aabbccddeeff";

    /// <summary>The batch byte strings carried by <paramref name="frames"/>, in order, as a requester splits them.</summary>
    private static List<byte[]> Unframe(IEnumerable<PooledFrame> frames, int maxFrameBytes)
    {
        var batches = new List<byte[]>();
        uint expected = 0;
        foreach (var frame in frames)
        {
            using (frame)
            {
                Assert.True(frame.Payload.Length <= maxFrameBytes);
                var (jobId, seq, slices) = BatchFrame.Decode(frame.Payload, maxFrameBytes);
                Assert.Equal(JobId, jobId);
                Assert.Equal(expected++, seq);
                batches.AddRange(slices.Select(s => s.ToArray()));
            }
        }
        return batches;
    }

    [Fact]
    public async Task A_sandboxed_result_is_forwarded_as_the_worker_sent_it_in_memory_and_spilled_and_verifies_at_the_requester()
    {
        // 200k rows of (INTEGER, DOUBLE, VARCHAR) with NULLs; 256 KiB kept in memory, the rest spilled.
        const string sql = "SELECT CASE WHEN i % 11 = 0 THEN NULL ELSE i::INTEGER END AS i, i * 1.5 AS d, 'row-' || i AS s FROM range(200000) t(i)";
        using var executor = new SandboxExecutor(s_worker, EngineOptions.Default,
            new SandboxOptions { Backend = SandboxBackend.None, Limits = new SandboxLimits(), SpoolMemoryBytes = 256 << 10 }, 1, NullLogger.Instance);
        var executed = await executor.ExecuteAsync(sql, CancellationToken.None);
        using var result = executed.Result;
        var spool = Assert.IsType<EncodedSpool>(result.Batches);
        Assert.True(spool.MemoryBytes > 0 && spool.Spilled, $"memory {spool.MemoryBytes}, spilled {spool.SpilledBytes}");
        Assert.Equal(200_000, result.RowCount);
        var received = Enumerable.Range(0, spool.Count).Select(i => spool.Encoded(i).ToArray()).ToList();

        const int maxFrame = 16 << 20;
        var forwarded = Unframe(ResultFrames.Build(JobId, result, 1 << 20, maxFrame), maxFrame);

        // The same byte strings, batch for batch, and not one batch decoded on this side (re-encoding needs the rows).
        Assert.Equal(received.Count, forwarded.Count);
        for (var i = 0; i < received.Count; i++)
        {
            Assert.True(received[i].AsSpan().SequenceEqual(forwarded[i]), $"batch {i} differs from what the worker sent");
        }
        Assert.Equal(0, spool.Decoded);

        // The requester's side: decoded with the hardened decoder and re-hashed, the rows give the worker's committed hash.
        var hasher = new CanonicalResultHasher(result.Schema);
        long rows = 0;
        foreach (var bytes in forwarded)
        {
            var batch = BatchCodec.DecodeBatch(bytes, result.Schema);
            rows += batch.RowCount;
            hasher.Add(batch);
        }
        Assert.Equal(200_000, rows);
        Assert.Equal(executed.Hash, hasher.Finish().ToString());

        // A reader on the host (a simulated cheater's Perturb, a hash without the worker's) still gets the rows, decoded on demand.
        var rehash = new CanonicalResultHasher(result.Schema);
        foreach (var batch in result.Batches)
        {
            rehash.Add(batch);
        }
        Assert.Equal(executed.Hash, rehash.Finish().ToString());
        Assert.Equal(spool.Count, spool.Decoded);
    }

    [Fact]
    public void Forwarded_bytes_are_not_encoded_again_even_where_encoding_the_rows_would_give_other_bytes()
    {
        // A valid batch in a form this build never writes: a validity mask on a column without NULLs (the encoder omits it).
        var schema = new ResultSchema(["i"], [DuckType.Integer]);
        byte[] loose = [BatchCodec.Version, 3, 1, 1, 0b111, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0];
        var canonical = BatchCodec.EncodeBatch(BatchCodec.DecodeBatch(loose, schema));
        Assert.NotEqual(loose, canonical);

        using var spool = new EncodedSpool(schema, 1 << 20, Path.GetTempPath());
        spool.Add(loose);
        using var forwardedResult = new ResultSet(schema, spool, spool.RowCount);
        Assert.Equal(new[] { loose }, Unframe(ResultFrames.Build(JobId, forwardedResult, 1 << 20, 1 << 20), 1 << 20));

        // Rows without their encoding (in-process jobs, rows a simulated fault replaced) are encoded here, as before.
        using var decodedResult = new ResultSet(schema, [spool[0]]);
        Assert.Equal(new[] { canonical }, Unframe(ResultFrames.Build(JobId, decodedResult, 1 << 20, 1 << 20), 1 << 20));
    }

    [Fact]
    public void A_forwarded_batch_over_the_frame_limit_fails_with_the_result_too_large_message()
    {
        var schema = new ResultSchema(["s"], [DuckType.Varchar]);
        var big = BatchCodec.EncodeBatch(new ResultBatch(schema, [ColumnVectors.Varchar(new string('x', 10_000))], 1));
        using var spool = new EncodedSpool(schema, 0, Path.GetTempPath());
        spool.Add(big);
        using var result = new ResultSet(schema, spool, spool.RowCount);
        var e = Assert.Throws<Worker.ResultTooLargeException>(() => ResultFrames.Build(JobId, result, 4 << 10, 8 << 10).ToList());
        Assert.Equal("a result batch is 9.8 KiB encoded (a single value or row that large cannot be split); the frame limit is 8 KiB (network.max_frame_bytes)", e.Message);
    }
}
