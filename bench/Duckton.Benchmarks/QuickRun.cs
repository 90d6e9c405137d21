using System.Diagnostics;
using Duckton.Core.Hashing;

namespace Duckton.Benchmarks;

/// <summary>
/// <c>--quick</c>: stopwatch timing of the canonical hash over 1M rows (rows/s). Prints the best wall time
/// and the best process CPU time of 10 runs: on a shared machine the CPU time is the steadier figure.
/// </summary>
public static class QuickRun
{
    public static int Run()
    {
        if (Environment.GetEnvironmentVariable("DUCKTON_BENCH_BREAKDOWN") == "1")
        {
            Breakdown.Run();
        }
        var process = Process.GetCurrentProcess();
        foreach (var (name, data) in new[] { ("INTEGER", Data.IntegerRows(1_000_000)), ("INTEGER,DOUBLE,VARCHAR", Data.IntDoubleVarcharRows(1_000_000)) })
        {
            for (var i = 0; i < 3; i++)
            {
                CanonicalResultHash.Compute(data); // warm up: tiered JIT reaches optimised code
            }
            double bestWall = double.MaxValue, bestCpu = double.MaxValue;
            for (var i = 0; i < 10; i++)
            {
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                CanonicalResultHash.Compute(data);
                bestWall = Math.Min(bestWall, sw.Elapsed.TotalSeconds);
                process.Refresh();
                bestCpu = Math.Min(bestCpu, (process.TotalProcessorTime - cpu0).TotalSeconds);
            }
            Console.WriteLine($"canonical {name}: {data.RowCount / bestWall / 1e6:F1} M rows/s wall ({bestWall * 1000:F1} ms), " +
                $"{data.RowCount / bestCpu / 1e6:F1} M rows/s per CPU second ({bestCpu * 1000:F1} ms CPU) for {data.RowCount} rows");
        }
        return 0;
    }
}
