using System.Diagnostics;
using Duckton.Core.Data;
using Duckton.Core.Hashing;

namespace Duckton.Benchmarks;

/// <summary>
/// <c>DUCKTON_BENCH_BREAKDOWN=1 … --quick</c>: where the canonical hash of 1M narrow rows spends its time,
/// step by step (best of 15 runs each, process CPU time). Each step runs as the hasher runs it: digest sets
/// are finished between runs, so their arena memory is reused instead of page-faulted in afresh.
/// </summary>
internal static class Breakdown
{
    private const int N = 1_000_000;

    public static void Run()
    {
        var set = Data.IntegerRows(N);
        var codec = CellCodec.For(DuckType.Integer);
        var lengths = new int[1024];
        var cursors = new int[1024];
        var rowBytes = new byte[1024 * 5 + 64];
        Time("encode 1M INTEGER rows column-wise", () =>
        {
            foreach (var batch in set.Batches)
            {
                for (var start = 0; start < batch.RowCount; start += 1024)
                {
                    var n = Math.Min(1024, batch.RowCount - start);
                    Array.Clear(lengths);
                    codec.MeasureColumn(batch.Columns[0], start, n, lengths.AsSpan(0, n));
                    for (var i = 0; i < n; i++)
                    {
                        cursors[i] = i * 5;
                    }
                    codec.WriteColumn(batch.Columns[0], start, n, rowBytes, cursors.AsSpan(0, n));
                }
            }
        });

        var data = new byte[N * 5];
        new Random(1).NextBytes(data);
        var offsets = new int[N + 1];
        for (var i = 0; i <= N; i++)
        {
            offsets[i] = i * 5;
        }
        var digests = new byte[N * 32];
        Time("1M row digests (Blake3.HashMany, 5-byte inputs)", () => Blake3.HashMany(data, offsets, digests));
        RowDigestSet? pending = null;
        Time("digest set: add 1M digests", () => pending = Fill(digests), after: () => pending!.WriteSorted(new Blake3Hasher()));
        Time("digest set: add, sort and final hash", () => Fill(digests).WriteSorted(new Blake3Hasher()));
        Time("final hash alone: BLAKE3 of 32 MB", () => Blake3.Hash(digests));
    }

    private static RowDigestSet Fill(byte[] digests)
    {
        var set = new RowDigestSet();
        for (var i = 0; i < N; i += 1024)
        {
            set.Add(digests.AsSpan(i * 32, Math.Min(1024, N - i) * 32));
        }
        return set;
    }

    private static void Time(string name, Action action, Action? after = null)
    {
        action();
        after?.Invoke();
        var process = Process.GetCurrentProcess();
        var best = double.MaxValue;
        for (var i = 0; i < 15; i++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            action();
            process.Refresh();
            best = Math.Min(best, (process.TotalProcessorTime - cpu0).TotalMilliseconds);
            after?.Invoke();
        }
        Console.WriteLine($"{name}: {best:F1} ms CPU");
    }
}
