using System.Diagnostics;
using Duckton.Core.Hashing;

namespace Duckton.Benchmarks;

/// <summary>
/// <c>--b3sum-compare FILE</c>: hashes FILE's bytes single-threaded and prints the digest and the best
/// bytes/s over several runs, for bench/hash-vs-b3sum.sh to compare with <c>b3sum --num-threads 1</c>.
/// </summary>
public static class B3sumCompare
{
    public static int Run(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var digest = new byte[Blake3.HashSize];
        // Warm up so the timed runs measure fully optimised code.
        for (var i = 0; i < 3; i++)
        {
            Blake3.Hash(bytes, digest);
        }
        var best = double.MaxValue;
        for (var i = 0; i < 10; i++)
        {
            var sw = Stopwatch.StartNew();
            Blake3.Hash(bytes, digest);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }

        // Also streaming from the file through the incremental hasher (1 MiB reads), as b3sum reads it.
        var bestFile = double.MaxValue;
        var buffer = new byte[1 << 20];
        for (var i = 0; i < 5; i++)
        {
            var sw = Stopwatch.StartNew();
            var hasher = new Blake3Hasher();
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
            {
                int n;
                while ((n = stream.Read(buffer)) > 0)
                {
                    hasher.Update(buffer.AsSpan(0, n));
                }
            }
            var streamed = hasher.FinalizeToArray();
            bestFile = Math.Min(bestFile, sw.Elapsed.TotalSeconds);
            if (!streamed.AsSpan().SequenceEqual(digest))
            {
                Console.Error.WriteLine("streamed digest differs from one-shot digest");
                return 1;
            }
        }
        Console.WriteLine($"digest {Convert.ToHexStringLower(digest)}");
        Console.WriteLine($"lanes {Blake3.ParallelLanes}");
        Console.WriteLine($"bytes {bytes.Length}");
        Console.WriteLine($"memory_seconds {best:F6}");
        Console.WriteLine($"memory_bytes_per_second {bytes.Length / best:F0}");
        Console.WriteLine($"file_seconds {bestFile:F6}");
        Console.WriteLine($"file_bytes_per_second {bytes.Length / bestFile:F0}");
        return 0;
    }
}
