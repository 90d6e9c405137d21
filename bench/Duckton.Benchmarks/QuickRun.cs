using System.Diagnostics;
using Duckton.Core.Hashing;

namespace Duckton.Benchmarks;

/// <summary><c>--quick</c>: a few seconds of stopwatch timing of the canonical hash (rows/s), for iterating.</summary>
public static class QuickRun
{
    public static int Run()
    {
        Breakdown.Run();
        foreach (var (name, data) in new[] { ("INTEGER", Data.IntegerRows(1_000_000)), ("INTEGER,DOUBLE,VARCHAR", Data.IntDoubleVarcharRows(1_000_000)) })
        {
            CanonicalResultHash.Compute(data);
            var best = double.MaxValue;
            for (var i = 0; i < 8; i++)
            {
                var sw = Stopwatch.StartNew();
                CanonicalResultHash.Compute(data);
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"canonical {name}: {data.RowCount / best / 1e6:F1} M rows/s ({best * 1000:F1} ms for {data.RowCount} rows)");
        }
        return 0;
    }
}
