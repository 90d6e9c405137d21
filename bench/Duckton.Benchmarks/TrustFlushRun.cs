using System.Diagnostics;
using Duckton.Core.Crypto;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.DuckDB.Native;
using Duckton.Node.Trust;

namespace Duckton.Benchmarks;

/// <summary>
/// <c>--trust-flush [jobs] [flushes]</c>: what one write-behind commit of the trust store costs (this process's CPU
/// and wall time per flush), with as many verified jobs queued before each as a busy requester gathers in one window:
/// per job its record and three signed receipts (one per host of k = 3). A store of its own in a temporary directory,
/// kept attached between flushes as a busy node keeps it; 50 unmeasured flushes first.
/// </summary>
public static class TrustFlushRun
{
    public static int Run(int[] jobsPerFlush, int flushes)
    {
        DuckDBNative.InitializeFromLibrary();
        foreach (var jobs in jobsPerFlush)
        {
            var directory = Directory.CreateTempSubdirectory("duckton-bench-trust-").FullName;
            try
            {
                using var store = TrustStore.Open(directory);
                var certificateHash = new byte[32];
                using var requester = Ed25519Key.Generate();
                var requesterId = JobIds.NodeIdOf(requester.PublicKey);
                // Signed before the clock starts: the requester signs a receipt when it judges a host, not when it commits.
                var receipts = new Receipt[(50 + flushes) * jobs * 3];
                for (var i = 0; i < receipts.Length; i++)
                {
                    var id = JobId(i / 3);
                    receipts[i] = new Receipt
                    {
                        JobId = id, WorkerId = "host-" + (i % 3), RequesterId = requesterId, QueryHash = "query-" + id, ResultHash = "result-" + id,
                        Verdict = Verdict.Correct, LatencyMs = 3, Timestamp = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                    }.SignWith(requester);
                }
                var next = 0;
                void Flush()
                {
                    for (var i = 0; i < jobs; i++, next++)
                    {
                        var id = JobId(next);
                        store.AddJobRecord(id, "query-" + id, "result-" + id, certificateHash, requesterId, "host-0", DateTimeOffset.UtcNow);
                        for (var host = 0; host < 3; host++)
                        {
                            store.AddReceipt(receipts[next * 3 + host], alreadyChecked: true);
                        }
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
                Console.WriteLine($"{jobs,4} jobs per flush: CPU {(Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds / flushes:F2} ms, " +
                    $"wall {Stopwatch.GetElapsedTime(wall).TotalMilliseconds / flushes:F2} ms per flush ({flushes} flushes)");
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        return 0;
    }

    private static string JobId(int n) => n.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
}
