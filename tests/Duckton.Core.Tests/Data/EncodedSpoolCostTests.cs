using Duckton.Core.Data;
using Duckton.Core.Protocol;
using Duckton.Tests.Shared;
using Xunit.Abstractions;

namespace Duckton.Core.Tests.Data;

[CollectionDefinition(nameof(CpuMeasured), DisableParallelization = true)]
public sealed class CpuMeasured;

/// <summary>
/// The host's side of a sandboxed job's 1 M-row result, in CPU: keeping the worker's encoded batches and forwarding them
/// (<see cref="EncodedSpool"/>) against decoding them on receive and encoding them again for the frames
/// (<see cref="SpooledBatches"/> and <see cref="BatchCodec.EncodeBatch(ResultBatch)"/>, the path before). docs/BENCHMARKS.md
/// records the figures this prints. Runs alone (process CPU time would otherwise include other tests' work).
/// </summary>
[Collection(nameof(CpuMeasured))]
public sealed class EncodedSpoolCostTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-encoded-spool-cost-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string JobId = "00112233445566778899aabbccddeeff";
    private static readonly ResultSchema s_schema = new(["i", "d", "s"], [DuckType.Integer, DuckType.Double, DuckType.Varchar]);

    /// <summary>1 M rows × (INTEGER, DOUBLE, VARCHAR) in DuckDB-sized batches of 2,048 rows, as a worker encodes them.</summary>
    private static List<byte[]> WorkerBatches()
    {
        var batches = new List<byte[]>();
        for (var start = 0; start < 1_000_000; start += 2048)
        {
            var n = Math.Min(2048, 1_000_000 - start);
            var batch = SampleBatches.Of(
                ("i", ColumnVectors.Fixed<int>(DuckType.Integer, Enumerable.Range(start, n).Select(i => (int?)i).ToArray())),
                ("d", ColumnVectors.Fixed<double>(DuckType.Double, Enumerable.Range(start, n).Select(i => (double?)(i * 1.5)).ToArray())),
                ("s", ColumnVectors.Varchar(Enumerable.Range(start, n).Select(i => "row-" + i).ToArray())));
            batches.Add(BatchCodec.EncodeBatch(batch));
        }
        return batches;
    }

    /// <summary>Frames of about 1 MiB, as the fetch builds them.</summary>
    private static long Frame(IReadOnlyList<ReadOnlyMemory<byte>> encoded)
    {
        long bytes = 0;
        var pending = new List<ReadOnlyMemory<byte>>();
        var size = 0;
        foreach (var e in encoded)
        {
            if (pending.Count > 0 && size + e.Length > 1 << 20)
            {
                bytes += BatchFrame.Encode(JobId, 0, pending).Length;
                (pending, size) = ([], 0);
            }
            pending.Add(e);
            size += e.Length;
        }
        return bytes + BatchFrame.Encode(JobId, 0, pending).Length;
    }

    private long Forward(List<byte[]> received, long budget)
    {
        using var spool = new EncodedSpool(s_schema, budget, _dir);
        foreach (var b in received)
        {
            spool.Add(b);
        }
        var bytes = Frame(Enumerable.Range(0, spool.Count).Select(spool.Encoded).ToList());
        Assert.Equal(0, spool.Decoded);
        return bytes;
    }

    private long DecodeAndEncode(List<byte[]> received, long budget)
    {
        using var spool = new SpooledBatches(s_schema, budget, _dir);
        foreach (var b in received)
        {
            spool.Add(BatchCodec.DecodeBatch(b, s_schema), b);
        }
        return Frame(spool.Select(b => (ReadOnlyMemory<byte>)BatchCodec.EncodeBatch(b)).ToList());
    }


    /// <summary>CPU of the calling thread: both paths run on it, spilling included (see <see cref="ThreadCpu"/>).</summary>
    private static double CpuMs(Func<long> run, out long bytes)
    {
        var before = ThreadCpu.Milliseconds();
        bytes = run();
        return ThreadCpu.Milliseconds() - before;
    }

    [Fact]
    public void Forwarding_a_million_received_rows_costs_a_fraction_of_decoding_and_encoding_them_again()
    {
        var received = WorkerBatches();
        foreach (var (name, budget) in new[] { ("in memory", 1L << 30), ("8 MiB then spilled", 8L << 20) })
        {
            var forward = new List<double>();
            var reencode = new List<double>();
            for (var round = 0; round < 6; round++) // interleaved; the first round warms up and is dropped
            {
                var f = CpuMs(() => Forward(received, budget), out var forwardedBytes);
                var r = CpuMs(() => DecodeAndEncode(received, budget), out var reencodedBytes);
                Assert.Equal(reencodedBytes, forwardedBytes); // the same frames' worth of bytes either way
                if (round > 0)
                {
                    forward.Add(f);
                    reencode.Add(r);
                }
            }
            var (fm, rm) = (forward.Order().ElementAt(2), reencode.Order().ElementAt(2));
            output.WriteLine($"{name}: forward {fm:F0} ms CPU, decode + re-encode {rm:F0} ms CPU per 1 M rows ({received.Sum(b => (long)b.Length) / 1e6:F1} MB), {rm / Math.Max(fm, 1):F1}x; load {(OperatingSystem.IsLinux() ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
            // Generous for a loaded machine: decoding and encoding 31 MB costs several times a copy of it.
            Assert.True(fm * 2 < rm, $"{name}: forwarding took {fm:F0} ms of CPU, decoding and encoding again {rm:F0} ms");
        }
    }
}
