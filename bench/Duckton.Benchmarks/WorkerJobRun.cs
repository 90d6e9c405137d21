using System.Buffers;
using Duckton.Core.Configuration;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Engine;
using Duckton.Node.Grid.Execution;

namespace Duckton.Benchmarks;

/// <summary>
/// <c>--worker-job [jobs]</c>: what one small job (<c>SELECT 42</c>) costs a sandbox worker's own code, in this process:
/// the same engine settings as a worker (one thread, one warm instance), step by step — DuckDB alone, the engine's
/// materialising call (what a local run uses), its streaming call, then the worker's own job body
/// (<see cref="SandboxWorkerProcess"/>: the canonical hash, the batch encoding and the frames, here written to a buffered
/// null stream), then with an ephemeral spill directory (checked after each job) and the worker's per-job CPU limit.
/// Process CPU per job, best of 5 rounds. Set beside the CPU a worker process spends per job in
/// <c>duckton bench grid</c>, the difference is what being a separate process costs (pipes, wake-ups, cold caches).
/// </summary>
public static class WorkerJobRun
{
    private const string Sql = "SELECT 42";
    private const long Memory = 1L << 30;

    public static int Run(int jobs)
    {
        DuckDBNative.InitializeFromLibrary();
        var spillParent = Directory.CreateTempSubdirectory("duckton-bench-spill-").FullName;
        try
        {
            using var plain = Engine(null, "");
            using var spilling = Engine(TempDirPolicy.Ephemeral, spillParent);
            var encoded = new ArrayBufferWriter<byte>(64 << 10);
            using var pipe = new BufferedStream(Stream.Null, 1 << 16);
            Console.WriteLine($"{jobs:N0} jobs of `{Sql}` per round, best of 5 rounds, process CPU per job ({Environment.ProcessorCount} cores):");
            // DuckDB alone, on a database with the same start-up settings and lock-down: what the engine adds is above it.
            using (var database = DuckDBDatabase.Open(null, LockedDownEngine.LockdownSettings(Options(null, ""))))
            {
                using (var setup = database.Connect())
                {
                    setup.Execute(LockedDownEngine.LockdownSql);
                }
                Report("DuckDB alone: connect, prepare, execute streaming, read, close", jobs, () =>
                {
                    using var connection = database.Connect();
                    PrepareAndRead(connection);
                });
                // For reference only (jobs never share a connection: it would carry one requester's session state to the next).
                using var kept = database.Connect();
                Report("  (the same on one connection kept across jobs)", jobs, () => PrepareAndRead(kept));
            }
            Report("engine, materialised (a local run's call)", jobs, () => plain.Execute(Sql).Dispose());
            Report("engine, streaming (the worker's call), no-op callbacks", jobs, () => plain.ExecuteStreaming(Sql, static _ => { }, static _ => { }));
            // The worker's own job body and per-job limit (SandboxWorkerProcess), its frames written to a buffered null stream.
            Report("+ hash, encode, frames (the worker's job body)", jobs, () => SandboxWorkerProcess.RunOne(plain, Sql, pipe, Memory, encoded, default));
            Report("+ an ephemeral spill directory (DuckDB temp dir, checked per job)", jobs, () => SandboxWorkerProcess.RunOne(spilling, Sql, pipe, Memory, encoded, default));
            Report("+ the per-job CPU limit (getrlimit, setrlimit, CPU usage)", jobs, () =>
            {
                SandboxWorkerProcess.MoveCpuLimit(3600);
                SandboxWorkerProcess.RunOne(spilling, Sql, pipe, Memory, encoded, default);
            });
            return 0;
        }
        finally
        {
            Directory.Delete(spillParent, recursive: true);
        }
    }

    private static EngineOptions Options(TempDirPolicy? spill, string spillDirectory) => new()
    {
        MemoryLimitBytes = Memory,
        Threads = 1,
        WarmInstances = 1,
        SpillPolicy = spill,
        SpillDirectory = spillDirectory,
    };

    private static LockedDownEngine Engine(TempDirPolicy? spill, string spillDirectory) => new(Options(spill, spillDirectory));

    private static void PrepareAndRead(DuckDBConnection connection)
    {
        using var statement = connection.TryPrepare(Sql, out var error) ?? throw new DuckDBException(error ?? Sql);
        using var result = statement.ExecuteStreaming();
        while (result.ReadBatch() is not null)
        {
        }
    }

    private static void Report(string step, int jobs, Action job)
    {
        for (var i = 0; i < Math.Min(jobs, 2_000); i++)
        {
            job(); // warm-up: tiered JIT, DuckDB's caches
        }
        var best = double.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            var cpu = Environment.CpuUsage.TotalTime;
            for (var i = 0; i < jobs; i++)
            {
                job();
            }
            best = Math.Min(best, (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds / jobs);
        }
        Console.WriteLine($"  {step,-68} {best * 1000,7:F0} µs");
    }
}
