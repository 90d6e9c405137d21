using System.Diagnostics;
using Duckton.Core.Hashing;

namespace Duckton.Benchmarks;

internal static class Breakdown
{
    public static void Run()
    {
        var set = Data.IntegerRows(1_000_000);
        var codec = CellCodec.For(Duckton.Core.Data.DuckType.Integer);
        var lengths = new int[1025];
        var cursors = new int[1024];
        var buffer = new byte[1024 * 5 + 64];
        Time("encode 1M INTEGER (measure+write)", () =>
        {
            foreach (var batch in set.Batches)
            {
                for (var start = 0; start < batch.RowCount; start += 1024)
                {
                    var n = Math.Min(1024, batch.RowCount - start);
                    Array.Clear(lengths);
                    codec.MeasureColumn(batch.Columns[0], start, n, lengths.AsSpan(1, n));
                    for (var i = 0; i < n; i++) cursors[i] = i * 5;
                    codec.WriteColumn(batch.Columns[0], start, n, buffer, cursors.AsSpan(0, n));
                }
            }
        });
        const int N = 1_000_000;
        var data = new byte[N * 5];
        new Random(1).NextBytes(data);
        var offsets = new int[N + 1];
        for (var i = 0; i <= N; i++) offsets[i] = i * 5;
        var digests = new byte[N * 32];
        Time("HashMany 1M x 5B", () => Blake3.HashMany(data, offsets, digests));
        Time("RowDigestSet add+sort+hash 1M", () =>
        {
            var set = new RowDigestSet();
            for (var i = 0; i < N; i += 1024) set.Add(digests.AsSpan(i * 32, Math.Min(1024, N - i) * 32));
            set.WriteSorted(new Blake3Hasher());
        });
        Time("RowDigestSet add only", () =>
        {
            var set = new RowDigestSet();
            for (var i = 0; i < N; i += 1024) set.Add(digests.AsSpan(i * 32, Math.Min(1024, N - i) * 32));
        });
        var scratch = new byte[digests.Length];
        var copy = new byte[digests.Length];
        Time("DigestSort 1M", () => { digests.CopyTo(copy, 0); DigestSort.SortInto(copy, scratch, 0); });
        Time("SortInto 256 x 4K depth1", () =>
        {
            digests.CopyTo(copy, 0);
            for (var b = 0; b < 244; b++)
            {
                for (var i = 0; i < 4096; i++) copy[(b * 4096 + i) * 32] = (byte)b;
                DigestSort.SortInto(copy.AsSpan(b * 4096 * 32, 4096 * 32), scratch.AsSpan(b * 4096 * 32, 4096 * 32), 1);
            }
        });
        var one = new byte[4096 * 32];
        var oneOut = new byte[4096 * 32];
        new Random(5).NextBytes(one);
        for (var i = 0; i < 4096; i++) one[i * 32] = 7;
        var oneCopy = new byte[one.Length];
        Time("SortInto 4K depth1 x 244 (in cache)", () =>
        {
            for (var r = 0; r < 244; r++) { one.CopyTo(oneCopy, 0); DigestSort.SortInto(oneCopy, oneOut, 1); }
        });
        var h = new Blake3Hasher();
        Time("Blake3Hasher.Update 244 x 128KB", () => { h.Reset(); for (var r = 0; r < 244; r++) h.Update(oneOut); });
        Time("copy 32MB", () => { digests.CopyTo(copy, 0); });
        Time("Blake3 32 MB", () => Blake3.Hash(digests));
    }

    private static void Time(string name, Action a)
    {
        a();
        var best = double.MaxValue;
        for (var i = 0; i < 15; i++)
        {
            var sw = Stopwatch.StartNew();
            a();
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"{name}: {best:F1} ms");
    }
}
