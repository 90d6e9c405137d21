using System.Diagnostics;
using Duckton.DuckDB.Native;
using Duckton.Node.Trust;

namespace Duckton.Benchmarks;

/// <summary>
/// <c>--trust-flush [records] [flushes]</c>: what one write-behind commit of the trust store costs (this process's CPU
/// and wall time per flush), with as many job records queued before each as a busy node gathers in one window. A store
/// of its own in a temporary directory, kept attached between flushes as a busy node keeps it; 50 unmeasured flushes first.
/// </summary>
public static class TrustFlushRun
{
    public static int Run(int[] recordsPerFlush, int flushes)
    {
        DuckDBNative.InitializeFromLibrary();
        foreach (var records in recordsPerFlush)
        {
            var directory = Directory.CreateTempSubdirectory("duckton-bench-trust-").FullName;
            try
            {
                using var store = TrustStore.Open(directory);
                var certificateHash = new byte[32];
                var next = 0;
                void Flush()
                {
                    for (var i = 0; i < records; i++)
                    {
                        var id = (next++).ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
                        store.AddJobRecord(id, "query-" + id, "result-" + id, certificateHash, "requester", "winner", DateTimeOffset.UtcNow);
                    }
                    store.Flush();
                }
                for (var i = 0; i < 50; i++)
                {
                    Flush();
                }
                var cpu = Environment.CpuUsage.TotalTime;
                var wall = Stopwatch.GetTimestamp();
                for (var i = 0; i < flushes; i++)
                {
                    Flush();
                }
                Console.WriteLine($"{records,4} job records per flush: CPU {(Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds / flushes:F2} ms, " +
                    $"wall {Stopwatch.GetElapsedTime(wall).TotalMilliseconds / flushes:F2} ms per flush ({flushes} flushes)");
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        return 0;
    }
}
