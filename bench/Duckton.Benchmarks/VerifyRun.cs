using System.Diagnostics;
using Duckton.Core.Data;
using Duckton.Core.Hashing;

namespace Duckton.Benchmarks;

/// <summary>
/// <c>--verify [tasks]</c>: the requester's side of a verified fetch without the network: 1M rows of (INTEGER, DOUBLE,
/// VARCHAR) in their wire encoding are decoded, then re-hashed on one task and on several (each hasher takes whichever
/// batch comes next and the digest sets are merged, as the fetch does). Best of 8 runs each, wall and process CPU time.
/// </summary>
public static class VerifyRun
{
    public static int Run(int tasks)
    {
        var rows = Data.IntDoubleVarcharRows(1_000_000);
        var wire = rows.Batches.Select(BatchCodec.EncodeBatch).ToList();
        var decoded = wire.Select(w => BatchCodec.DecodeBatch(w, rows.Schema)).ToList();
        var expected = CanonicalResultHash.Compute(rows);
        Console.WriteLine($"1,000,000 rows x (INTEGER, DOUBLE, VARCHAR): {wire.Count} batches, {wire.Sum(w => w.Length) / 1e6:F1} MB encoded; {Environment.ProcessorCount} cores");
        var decode = Time(() =>
        {
            foreach (var w in wire)
            {
                BatchCodec.DecodeBatch(w, rows.Schema);
            }
        });
        Print("decode", decode);
        var one = Time(() => Check(Hash(rows.Schema, decoded, 1), expected));
        Print("re-hash on 1 task", one);
        var many = Time(() => Check(Hash(rows.Schema, decoded, tasks), expected));
        Print($"re-hash on {tasks} tasks", many);
        Console.WriteLine($"re-hash wall: {tasks} tasks / 1 task = {many.Wall / one.Wall:F2}; CPU {many.Cpu / one.Cpu:F2}");
        return 0;
    }

    private static ResultDigest Hash(ResultSchema schema, List<ResultBatch> batches, int tasks)
    {
        var next = -1;
        var hashers = new CanonicalResultHasher[tasks];
        Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = tasks }, t =>
        {
            var hasher = new CanonicalResultHasher(schema);
            for (int i; (i = Interlocked.Increment(ref next)) < batches.Count;)
            {
                hasher.Add(batches[i]);
            }
            hashers[t] = hasher;
        });
        for (var t = 1; t < tasks; t++)
        {
            hashers[0].Absorb(hashers[t]);
        }
        return hashers[0].Finish(overlapSort: tasks > 1);
    }

    private static void Check(ResultDigest actual, ResultDigest expected)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException("the merged hash differs from the single hasher's");
        }
    }

    private static (double Wall, double Cpu) Time(Action action)
    {
        for (var i = 0; i < 3; i++)
        {
            action(); // tiered JIT reaches optimised code
        }
        var process = Process.GetCurrentProcess();
        double wall = double.MaxValue, cpu = double.MaxValue;
        for (var i = 0; i < 8; i++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            action();
            wall = Math.Min(wall, sw.Elapsed.TotalMilliseconds);
            process.Refresh();
            cpu = Math.Min(cpu, (process.TotalProcessorTime - cpu0).TotalMilliseconds);
        }
        return (wall, cpu);
    }

    private static void Print(string step, (double Wall, double Cpu) t) => Console.WriteLine($"{step}: {t.Wall:F1} ms wall, {t.Cpu:F1} ms CPU (best of 8)");
}
