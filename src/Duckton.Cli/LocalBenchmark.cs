using System.Diagnostics;
using System.Globalization;

namespace Duckton.Cli;

/// <summary>
/// End-to-end figures for the local path (docs/BENCHMARKS.md): p2p_query against the same query run directly, and small-query
/// latency. Both sides read every row into typed batches through the same reader.
/// </summary>
internal static class LocalBenchmark
{
    public static int Run(string configDirectory, long rows, int runs, TextWriter output)
    {
        using var session = new SqlSession(configDirectory);
        var query = $"SELECT i::INTEGER AS i, i * 1.5 AS d, 'row-' || i AS s FROM range({rows}) t(i)";
        var quoted = query.Replace("'", "''", StringComparison.Ordinal);
        var direct = Measure(runs, () => session.Query(query).RowCount);
        var viaP2p = Measure(runs, () => session.Query($"SELECT * FROM p2p_query('{quoted}')").RowCount);
        var small = Measure(Math.Max(runs * 20, 200), () => session.Query("SELECT * FROM p2p_query('SELECT 42 AS answer')").RowCount);
        var smallDirect = Measure(Math.Max(runs * 20, 200), () => session.Query("SELECT 42 AS answer").RowCount);
        var f = CultureInfo.InvariantCulture;
        output.WriteLine($"local p2p_query, {rows:N0} rows x (INTEGER, DOUBLE, VARCHAR), every row read into typed batches; {runs} runs:");
        output.WriteLine(string.Create(f, $"  direct     wall median {direct.Median:F1} ms ({rows / direct.Median / 1000:F2} M rows/s), CPU min {direct.CpuMin:F1} ms"));
        output.WriteLine(string.Create(f, $"  p2p_query  wall median {viaP2p.Median:F1} ms ({rows / viaP2p.Median / 1000:F2} M rows/s), CPU min {viaP2p.CpuMin:F1} ms"));
        output.WriteLine(string.Create(f, $"  ratio      wall {viaP2p.Median / direct.Median:F2}x, CPU {viaP2p.CpuMin / direct.CpuMin:F2}x   (target <= 1.3x)"));
        output.WriteLine(string.Create(f, $"small query SELECT 42: p2p_query p50 {small.Median:F3} ms p99 {small.P99:F3} ms; direct p50 {smallDirect.Median:F3} ms  (target <= 2 ms)"));
        return 0;
    }

    /// <summary>Wall-clock median and p99, and the least process CPU time of a run (steadier on a shared machine).</summary>
    private readonly record struct Stats(double Median, double P99, double CpuMin);

    private static Stats Measure(int runs, Func<long> action)
    {
        action(); // warm-up: JIT, first engine instance
        var times = new double[runs];
        var cpuMin = double.MaxValue;
        using var process = Process.GetCurrentProcess();
        for (var i = 0; i < runs; i++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            process.Refresh();
            cpuMin = Math.Min(cpuMin, (process.TotalProcessorTime - cpu).TotalMilliseconds);
        }
        Array.Sort(times);
        return new Stats(times[runs / 2], GridBenchmark.P99(times), cpuMin);
    }
}
