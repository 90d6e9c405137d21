using System.Diagnostics;
using System.Globalization;
using System.Text;
using Duckton.Core.Configuration;
using Duckton.Node;
using Duckton.Node.Grid.Execution;
using Xunit.Abstractions;

namespace Duckton.Grid.Tests;

/// <summary>
/// Two real <c>duckton host</c> processes whose jobs run in sandbox workers: A with the defaults (sandbox.backend auto =
/// cgroups here, limits from a 256 MiB per-job budget, workers reused), B with rlimits, explicit limits and a fresh
/// worker per job; and a requester that joined them.
/// </summary>
public sealed class SandboxGridFixture : IDisposable
{
    public const long Budget = 256L << 20;

    public SandboxGridFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-sandbox-tests-").FullName;
        Config("a", $"[budget]\nper_job_memory_bytes = {Budget}\n");
        Config("b", """
            [sandbox]
            backend = "rlimit"
            process_per_job = true
            [sandbox.limits]
            mode = "explicit"
            memory_bytes = 536870912
            cpu_seconds = 2
            max_file_size_bytes = 1048576
            max_open_files = 300
            max_processes = 100
            """);
        A = HostProcess.Start(Root, "a", "--threads", "2", "--max-jobs", "2");
        B = HostProcess.Start(Root, "b", "--threads", "2", "--max-jobs", "2", "--seed", A.Address);
        C = HostProcess.Start(Root, "c", "--threads", "2", "--max-jobs", "2", "--seed", A.Address); // all defaults: 1 GiB per job
        Requester = new Requester(Root, "requester", ("scheduler.offer_timeout_ms", "10000"), ("scheduler.dispatch_timeout_ms", "120000"));
        Requester.JoinAndLearn(A.Address, 3);
        SandboxTests.Answer(Requester, A);
        SandboxTests.Answer(Requester, B);
        SandboxTests.Answer(Requester, C);
    }

    private void Config(string name, string toml)
    {
        var dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.toml"), toml);
    }

    public string Root { get; }
    public HostProcess A { get; }
    public HostProcess B { get; }
    public HostProcess C { get; }
    public Requester Requester { get; }

    public void Dispose() => FixtureTeardown.Run(Requester, [A, B, C], Root);
}

[CollectionDefinition(Name)]
public sealed class SandboxGridCollection : ICollectionFixture<SandboxGridFixture>
{
    public const string Name = "sandbox-grid";
}

/// <summary>Jobs that cannot outgrow their budget: runaway memory, runaway CPU, large results, and each [sandbox] key's effect.</summary>
[Collection(SandboxGridCollection.Name)]
public sealed class SandboxTests(SandboxGridFixture grid, ITestOutputHelper output)
{
    private static QueryOverrides On(HostProcess h, int? timeoutMs = null) =>
        new() { Prefer = PlannerPreference.Remote, Replicas = 1, Quorum = 1, Nodes = [h.NodeId], TimeoutMs = timeoutMs };

    /// <summary>A one-host remote query that must succeed (the host is up and serving).</summary>
    internal static void Answer(Requester r, HostProcess h)
    {
        using var result = r.Host.Node.Query("SELECT 42 AS answer", On(h)).Result;
        Assert.Equal(1, result.RowCount);
    }

    /// <summary>Samples a process's resident memory every 10 ms until disposed; <see cref="Peak"/> is the highest seen.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _task;
        private long _peak;

        public RssSampler(Func<long> read)
        {
            _task = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var v = read();
                    if (v > Interlocked.Read(ref _peak))
                    {
                        Interlocked.Exchange(ref _peak, v);
                    }
                    await Task.Delay(10).ConfigureAwait(false);
                }
            });
        }

        public long Peak => Interlocked.Read(ref _peak);

        public void Dispose()
        {
            _stop.Cancel();
            _task.Wait();
            _stop.Dispose();
        }
    }

    private static string UnionAll(int n)
    {
        var sb = new StringBuilder("SELECT 1 AS x");
        for (var i = 1; i < n; i++)
        {
            sb.Append(" UNION ALL SELECT 1");
        }
        return sb.ToString();
    }

    [Fact]
    public void A_runaway_job_fails_with_a_memory_limit_error_and_the_host_stays_small_and_up()
    {
        Answer(grid.Requester, grid.A);
        var host = grid.A.Pid;
        var baseline = ProcessTree.RssBytes(host);
        var workerPeak = 0L;
        QueryFailedException error;
        var sw = Stopwatch.StartNew();
        using (var hostRss = new RssSampler(() => ProcessTree.RssBytes(host)))
        using (new RssSampler(() =>
        {
            var w = ProcessTree.SandboxWorkers(host).Sum(ProcessTree.RssBytes);
            InterlockedMax(ref workerPeak, w);
            return w;
        }))
        {
            error = Assert.Throws<QueryFailedException>(() => grid.Requester.Host.Node.Query(UnionAll(20_000), On(grid.A)).Result.Dispose());
            var peak = hostRss.Peak;
            output.WriteLine($"failed after {sw.ElapsedMilliseconds} ms: {error.Message}");
            output.WriteLine($"host RSS: baseline {baseline >> 20} MiB, peak {peak >> 20} MiB; sandbox workers' peak RSS {Interlocked.Read(ref workerPeak) >> 20} MiB; per-job budget {SandboxGridFixture.Budget >> 20} MiB");
            Assert.True(peak <= baseline + SandboxGridFixture.Budget * 3 / 2, $"the host grew from {baseline >> 20} MiB to {peak >> 20} MiB");
        }
        Assert.Contains("memory limit", error.Message, StringComparison.Ordinal);
        Assert.Contains("256 MiB", error.Message, StringComparison.Ordinal);
        Assert.False(grid.A.HasExited);
        Answer(grid.Requester, grid.A); // still serving
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    [Fact]
    public void A_timed_out_job_stops_burning_CPU_at_once_because_its_worker_stops_it_or_is_killed()
    {
        Answer(grid.Requester, grid.A);
        var host = grid.A.Pid;
        var sw = Stopwatch.StartNew();
        var error = Assert.Throws<QueryFailedException>(() =>
            grid.Requester.Host.Node.Query("SELECT sum(hash(i)) AS s FROM range(100000000000) t(i)", On(grid.A, timeoutMs: 3000)).Result.Dispose());
        output.WriteLine($"failed after {sw.ElapsedMilliseconds} ms: {error.Message}");
        // The worker that ran it interrupts the job (or is killed after sandbox.CancelGrace): within a moment no process of the host's tree is busy.
        Thread.Sleep(1000);
        var before = ProcessTree.TreeCpuSeconds(host);
        var busyBefore = ProcessTree.Descendants(host).ToDictionary(p => p, ProcessTree.CpuSeconds);
        Thread.Sleep(2000);
        var used = ProcessTree.TreeCpuSeconds(host) - before;
        var busy = busyBefore.Where(p => ProcessTree.CpuSeconds(p.Key) - p.Value > 0.5).Select(p => ProcessTree.CommandLine(p.Key)).ToList();
        output.WriteLine($"CPU used by the host and its workers in the 2 s after the timeout: {used:0.00} s");
        Assert.Empty(busy);
        Assert.True(used < 1.0, $"the host's processes used {used:0.00} CPU seconds in the 2 s after the job timed out");
        Answer(grid.Requester, grid.A);
    }

    [Fact]
    public void A_large_result_streams_through_the_host_with_bounded_memory()
    {
        const long rows = 10_000_000;
        var host = grid.C.Pid; // C's workers may use 1 GiB: the worker holds its result and its row digests, the host must not
        Answer(grid.Requester, grid.C);
        var baseline = ProcessTree.RssBytes(host);
        var sw = Stopwatch.StartNew();
        using var hostRss = new RssSampler(() => ProcessTree.RssBytes(host));
        var rowsSeen = 0L;
        using (var result = grid.Requester.Host.Node.Query($"SELECT i AS x FROM range({rows}) t(i)", On(grid.C)).Result)
        {
            foreach (var b in result.Batches)
            {
                rowsSeen += b.RowCount;
            }
        }
        var peak = hostRss.Peak;
        output.WriteLine($"{rows} rows ({rows * 8 >> 20} MiB of BIGINT) in {sw.ElapsedMilliseconds} ms; host RSS baseline {baseline >> 20} MiB, peak {peak >> 20} MiB");
        Assert.Equal(rows, rowsSeen);
        // 76 MiB of values, plus 32 bytes of row digest per row for the hash (305 MiB): held and hashed in the host (as
        // before) it would grow by 381 MiB or more. What the host does hold: its 8 MiB in-memory spool, pipe and TLS
        // buffers, and the garbage of the frames it builds until the GC runs (measured +46 to +83 MiB on a loaded
        // machine, most of it the last); 128 MiB is still a third of holding the result.
        Assert.True(peak - baseline < 128L << 20, $"the host grew by {(peak - baseline) >> 20} MiB while streaming {rows * 8 >> 20} MiB");
    }

    [Fact]
    public void A_result_larger_than_the_worker_budget_streams_out_of_the_worker_and_its_memory_stays_far_below_the_result()
    {
        // 1 M rows of ~480 bytes: about 460 MiB of values against A's 256 MiB per-job budget (a cgroup memory limit). A
        // worker that materialised the result (DuckDB's copy, then a managed one) failed here with a memory limit error;
        // streaming, it holds DuckDB's operator memory, a few chunks and the hash's 32-byte row digests (31 MiB).
        const long rows = 1_000_000;
        const int width = 480;
        var host = grid.A.Pid;
        Answer(grid.Requester, grid.A);
        var workerPeak = 0L;
        var sw = Stopwatch.StartNew();
        long rowsSeen = 0, bytesSeen = 0;
        using (new RssSampler(() =>
        {
            var w = ProcessTree.SandboxWorkers(host).Select(ProcessTree.RssBytes).DefaultIfEmpty(0).Max();
            InterlockedMax(ref workerPeak, w);
            return w;
        }))
        {
            using var result = grid.Requester.Host.Node.Query(
                $"SELECT i, repeat(chr((65 + i % 26)::INTEGER), {width}) AS s FROM range({rows}) t(i)", On(grid.A, timeoutMs: 600_000)).Result;
            foreach (var b in result.Batches)
            {
                rowsSeen += b.RowCount;
                for (var r = 0; r < b.RowCount; r++)
                {
                    bytesSeen += b.Columns[1].GetBytes(r).Length;
                }
            }
        }
        var hwm = ProcessTree.SandboxWorkers(host).Select(ProcessTree.PeakRssBytes).DefaultIfEmpty(0).Max();
        output.WriteLine($"{rows} rows, {bytesSeen >> 20} MiB of strings, in {sw.ElapsedMilliseconds} ms; worker RSS peak sampled {Interlocked.Read(ref workerPeak) >> 20} MiB, VmHWM of live workers {hwm >> 20} MiB; budget {SandboxGridFixture.Budget >> 20} MiB; load {File.ReadAllText("/proc/loadavg").Trim()}");
        Assert.Equal(rows, rowsSeen);
        Assert.Equal(rows * width, bytesSeen);
        // Far below the result (and below the budget the kernel enforces anyway): a materialising worker needs it twice.
        Assert.True(Interlocked.Read(ref workerPeak) < bytesSeen / 2, $"a worker reached {Interlocked.Read(ref workerPeak) >> 20} MiB for a {bytesSeen >> 20} MiB result");
        Answer(grid.Requester, grid.A);
    }

    [Fact]
    public void The_default_sandbox_puts_each_worker_in_its_own_cgroup_and_an_empty_network_namespace()
    {
        Assert.Contains("Job isolation: sandboxed worker processes (cgroup v1: memory 256 MiB, CPU 1 thread(s), processes 256", grid.A.Stderr, StringComparison.Ordinal);
        var worker = WaitForWorkers(grid.A)[0];
        var memory = ProcessTree.CgroupV1Path(worker, "memory");
        Assert.NotNull(memory);
        Assert.StartsWith("/duckton/host-", memory, StringComparison.Ordinal);
        Assert.Equal((256L << 20).ToString(CultureInfo.InvariantCulture), File.ReadAllText("/sys/fs/cgroup/memory" + memory + "/memory.limit_in_bytes").Trim());
        Assert.Equal("256", File.ReadAllText("/sys/fs/cgroup/pids" + ProcessTree.CgroupV1Path(worker, "pids") + "/pids.max").Trim());
        Assert.Equal("100000", File.ReadAllText("/sys/fs/cgroup/cpu" + ProcessTree.CgroupV1Path(worker, "cpu") + "/cpu.cfs_quota_us").Trim());
        Assert.NotEqual(NetNamespace(grid.A.Pid), NetNamespace(worker));
        Assert.Equal("1024", ProcessTree.Limit(worker, "Max open files"));
        Assert.Equal((256L << 20).ToString(CultureInfo.InvariantCulture), ProcessTree.Limit(worker, "Max file size"));
        // A reused worker serves job after job: it counts calls for the optimising tier at once (the runtime's delay off).
        Assert.Equal(s_tieringDelay ?? "0", ProcessTree.EnvironmentVariable(worker, SandboxWorker.CallCountingDelayVariable));
        // process_per_job = false: a worker that ended a job cleanly serves the next ones. Three jobs would replace both
        // warm workers with a fresh process per job; here at least one survives them (a job the requester cancels, such
        // as a background canary, may still replace one).
        Answer(grid.Requester, grid.A);
        var serving = WaitForWorkers(grid.A);
        Answer(grid.Requester, grid.A);
        Answer(grid.Requester, grid.A);
        Answer(grid.Requester, grid.A);
        Assert.NotEmpty(serving.Intersect(WaitForWorkers(grid.A)));
    }

    [Fact]
    public void Explicit_limits_under_rlimits_apply_to_the_worker_and_a_fresh_worker_runs_every_job()
    {
        Assert.Contains("Job isolation: sandboxed worker processes (rlimits: address space +512 MiB, CPU time 2 s, file size 1 MiB, open files 300, processes 100", grid.B.Stderr, StringComparison.Ordinal);
        var workers = WaitForWorkers(grid.B);
        var worker = workers[0];
        Assert.DoesNotContain("duckton", ProcessTree.CgroupV1Path(worker, "memory") ?? "", StringComparison.Ordinal);
        Assert.NotEqual("unlimited", ProcessTree.Limit(worker, "Max address space"));
        Assert.Equal("300", ProcessTree.Limit(worker, "Max open files"));
        Assert.Equal("1048576", ProcessTree.Limit(worker, "Max file size"));
        Assert.Equal("100", ProcessTree.Limit(worker, "Max processes"));
        Assert.NotEqual(NetNamespace(grid.B.Pid), NetNamespace(worker));
        // A worker per job starts cold every time: counting at once would only add compilations, so it keeps the runtime's default.
        Assert.Equal(s_tieringDelay, ProcessTree.EnvironmentVariable(worker, SandboxWorker.CallCountingDelayVariable));
        // process_per_job = true: the worker that served a job is gone afterwards (and a fresh one is warm).
        Answer(grid.Requester, grid.B);
        Assert.Single(workers, p => !Directory.Exists($"/proc/{p}"));
        WaitForWorkers(grid.B); // fails unless two warm workers serve again within a minute

        // cpu_seconds = 2: a job that computes for longer is stopped by the kernel, long before the 60 s job timeout.
        var sw = Stopwatch.StartNew();
        var cpu = Assert.Throws<QueryFailedException>(() =>
            grid.Requester.Host.Node.Query("SELECT sum(hash(i)) AS s FROM range(100000000000) t(i)", On(grid.B)).Result.Dispose());
        output.WriteLine($"CPU-bound job failed after {sw.ElapsedMilliseconds} ms: {cpu.Message}");
        Assert.Contains("CPU time limit", cpu.Message, StringComparison.Ordinal);

        // memory_bytes = 512 MiB (an address-space limit here): a job allocating more fails the same way. One 700 MB value
        // gets there in well under the 2 s of CPU (planning 20,000 UNION ALLs may not).
        var mem = Assert.Throws<QueryFailedException>(() => grid.Requester.Host.Node.Query("SELECT length(repeat('x', 700000000)) AS n", On(grid.B)).Result.Dispose());
        output.WriteLine($"runaway job under rlimits: {mem.Message}");
        Assert.Contains("memory limit", mem.Message, StringComparison.Ordinal);
        Answer(grid.Requester, grid.B);
    }

    [Fact]
    public void A_host_inside_a_library_process_runs_jobs_in_process_and_says_so()
    {
        // The requester is such a process (like a DuckDB with the extension): no program of its own to start as a worker.
        var dir = Path.Combine(grid.Root, "inproc-" + Guid.NewGuid().ToString("N")[..6]);
        using var node = new Requester(grid.Root, Path.GetFileName(dir), ("network.bind_addr", "127.0.0.1:0"));
        node.Rows("SELECT * FROM p2p_share()");
        var isolation = node.Rows("SELECT value FROM p2p_status() WHERE key = 'job_isolation'").Single()[0];
        output.WriteLine(isolation);
        Assert.StartsWith("in-process", isolation, StringComparison.Ordinal);
        Assert.Contains("DuckDB extension", isolation, StringComparison.Ordinal);
    }

    /// <summary>The test run's own setting of the runtime's tiering delay (kept for every child when set).</summary>
    private static readonly string? s_tieringDelay = Environment.GetEnvironmentVariable(SandboxWorker.CallCountingDelayVariable);

    private static string NetNamespace(int pid) => new FileInfo($"/proc/{pid}/ns/net").LinkTarget ?? "";

    /// <summary>The host's two warm sandbox workers (--max-jobs 2: started ahead of the next jobs), waiting for them.</summary>
    private static List<int> WaitForWorkers(HostProcess h)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var workers = ProcessTree.SandboxWorkers(h.Pid);
            if (workers.Count == 2)
            {
                // A worker counts once it has started, and one may end meanwhile (with process_per_job every job, a
                // background canary's included, retires its worker): two readings 200 ms apart must agree.
                Thread.Sleep(200);
                var again = ProcessTree.SandboxWorkers(h.Pid);
                if (again.Count == 2)
                {
                    return again;
                }
            }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"host {h.NodeId} has {workers.Count} sandbox workers");
            Thread.Sleep(50);
        }
    }
}
