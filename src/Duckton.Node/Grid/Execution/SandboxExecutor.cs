using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Duckton.Core.Data;
using Duckton.Engine;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Grid.Execution;

/// <summary>
/// Runs each job in a separate worker process from a warm pool: inside its own control group (memory, CPU bandwidth,
/// processes) or under rlimits, in an empty network namespace, with a fresh empty working directory, and with the same
/// DuckDB lock-down as in-process. Cancelling or timing out a job kills its worker, so its memory is returned at once.
/// The result comes back batch by batch with its canonical hash (computed by the worker as the batches leave it, within
/// the worker's budget) and is kept in the wire encoding the worker sent, in the host's memory only up to
/// <see cref="SandboxOptions.SpoolMemoryBytes"/>, the rest in an owner-only spill file; a fetch forwards those bytes.
/// </summary>
internal sealed class SandboxExecutor : IJobExecutor
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private readonly IReadOnlyList<string> _command;
    private readonly EngineOptions _engine;
    private readonly SandboxOptions _sandbox;
    private readonly int _threads;
    private readonly ILogger _logger;
    private readonly KernelSandbox _kernel;
    private readonly WorkerPool _warm = new();
    private readonly Lock _accounting = new(); // the warm and busy counts, as a job ends and the pool is refilled
    private readonly string _spillDirectory;
    private int _started;
    private int _busy;
    private volatile bool _disposed;

    public SandboxExecutor(IReadOnlyList<string> command, EngineOptions engine, SandboxOptions sandbox, int threads, ILogger logger)
    {
        _command = command;
        _engine = engine;
        _sandbox = sandbox;
        _threads = Math.Max(1, threads);
        _logger = logger;
        _kernel = KernelSandbox.Choose(sandbox.Backend);
        _kernel.RemoveStaleGroups();
        Inputs = new LocalInputs(engine.AllowedDirectories);
        _spillDirectory = Path.Combine(Path.GetTempPath(), "duckton-host-spill");
        SpooledBatches.RemoveLeftovers(_spillDirectory);
        Isolation = Describe();
        Replenish();
    }

    public string Isolation { get; }

    public LocalInputs Inputs { get; }

    /// <summary>Worker processes started so far (a fresh one per job with <c>process_per_job</c>).</summary>
    public int WorkersStarted => Volatile.Read(ref _started);

    /// <summary>"cgroup v2", "cgroup v1", "rlimits" or "none".</summary>
    public string LimitsBackend => _kernel.Kind;

    private string Describe()
    {
        var l = _sandbox.Limits;
        var parts = new List<string>();
        if (_kernel.UsesCgroups)
        {
            parts.Add($"{_kernel.Kind}: memory {Size(l.MemoryBytes)}, CPU {_threads} thread(s), processes {(l.MaxProcesses > 0 ? l.MaxProcesses.ToString(CultureInfo.InvariantCulture) : "no cap")}");
        }
        var rl = new List<string>();
        if (_kernel.MemoryByRlimit && l.MemoryBytes > 0)
        {
            rl.Add($"address space +{Size(l.MemoryBytes)}");
        }
        if (l.CpuTime > TimeSpan.Zero)
        {
            rl.Add($"CPU time {l.CpuTime.TotalSeconds:0.###} s");
        }
        if (l.MaxFileSizeBytes > 0)
        {
            rl.Add($"file size {Size(l.MaxFileSizeBytes)}");
        }
        if (l.MaxOpenFiles > 0)
        {
            rl.Add($"open files {l.MaxOpenFiles}");
        }
        if (!_kernel.UsesCgroups && l.MaxProcesses > 0 && _kernel.MemoryByRlimit)
        {
            rl.Add($"processes {l.MaxProcesses} (per user; not enforced for root)");
        }
        if (rl.Count > 0)
        {
            parts.Add("rlimits: " + string.Join(", ", rl));
        }
        if (_kernel.Kind == "none")
        {
            parts.Add("no kernel limits (sandbox.backend = none; DuckDB max_memory only)");
        }
        parts.Add("network: " + _kernel.Network);
        parts.Add(_sandbox.ProcessPerJob ? "a fresh process per job" : "a process is reused after a job that ended cleanly");
        return "sandboxed worker processes (" + string.Join("; ", parts) + ")";

        static string Size(long bytes) => bytes <= 0 ? "no cap" : bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? $"{bytes >> 30} GiB" : $"{bytes >> 20} MiB";
    }

    public async Task<ExecutedJob> ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        // Counted as busy from the moment it claims a worker, not once it has one: a worker still starting for this job
        // is neither warm nor busy, and another job ending meanwhile would start one more to refill the pool.
        Interlocked.Increment(ref _busy);
        SandboxWorker worker;
        try
        {
            worker = await TakeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Decrement(ref _busy);
            throw;
        }
        try
        {
            // A cancel first interrupts the job inside the worker, which answers at once and stays warm (starting a
            // replacement process costs far more CPU than the small job a lost race usually is); a worker that has not
            // answered within the grace is killed, so a runaway job still stops and its memory is returned.
            using var kill = new CancellationTokenSource();
            var job = worker.NextJob();
            using (kill.Token.Register(static w => ((SandboxWorker)w!).Kill(), worker))
            using (cancellationToken.Register(static s =>
            {
                var (w, n, k, grace) = ((SandboxWorker, int, CancellationTokenSource, TimeSpan))s!;
                w.Interrupt(n);
                try
                {
                    k.CancelAfter(grace);
                }
                catch (ObjectDisposedException)
                {
                    // The job already ended.
                }
            }, (worker, job, kill, _sandbox.CancelGrace)))
            {
                // Ends with the job's last frame, or when a killed worker's pipe closes.
                return await worker.RunAsync(sql, _spillDirectory, _sandbox.SpoolMemoryBytes).ConfigureAwait(false);
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(worker.WasKilled ? "the job was cancelled; its worker process was killed" : "the job was cancelled; its worker stopped it", cancellationToken);
        }
        finally
        {
            // Reused only after a clean end (a result, an SQL error, or a cancel it acknowledged): never after a kill, a
            // limit, or a broken pipe.
            var reusable = worker.EndedCleanly && !worker.WasKilled && !_sandbox.ProcessPerJob;
            bool kept;
            // One decision at a time: two jobs ending together each counted the other's worker as neither busy (its
            // count already lowered) nor warm (not yet back), and the first to refill the pool started a process too many.
            lock (_accounting)
            {
                Interlocked.Decrement(ref _busy);
                kept = reusable && !_disposed && _warm.Count + Volatile.Read(ref _busy) < Math.Max(WarmTarget, _sandbox.MaxWorkers);
                if (kept)
                {
                    _warm.Add(Task.FromResult(worker));
                }
            }
            if (!kept)
            {
                worker.Dispose();
            }
            Replenish();
        }
    }

    /// <summary>Workers started ahead of the jobs (and kept at least).</summary>
    private int WarmTarget => Math.Max(1, _sandbox.WarmWorkers);

    private async Task<SandboxWorker> TakeAsync(CancellationToken ct)
    {
        while (_warm.TryTake(out var pending))
        {
            SandboxWorker? w = null;
            try
            {
                w = await pending.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The job was cancelled while this worker was still starting: it goes back to the pool (it used to be
                // dropped here and left running, one idle process per cancelled job).
                _warm.Add(pending);
                throw;
            }
            catch (Exception e)
            {
                _logger.SandboxWorkerFailed(e);
                continue;
            }
            if (!w.Exited)
            {
                return w;
            }
            w.Dispose();
        }
        // Off the caller's thread first: starting a process takes milliseconds, and the caller may be a connection's frame loop.
        await Task.Yield();
        // None is warm: start one for this job, but not as part of it. A job cancelled while its worker starts (most
        // often the loser of a race that reached its quorum) leaves the new worker to the pool; throwing it away made
        // the next overlap start another, a process start-up and JIT per lost race.
        var starting = StartWorkerAsync(CancellationToken.None);
        try
        {
            return await starting.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _warm.Add(starting);
            throw;
        }
    }

    /// <summary>
    /// Starts workers until the warm ones and those running a job make <see cref="SandboxOptions.WarmWorkers"/> (a busy
    /// worker comes back to the pool when its job ends cleanly). Counting only the idle ones started a process whenever
    /// jobs overlapped, and the one that came back then found the pool full and was closed: a process per overlap.
    /// </summary>
    private void Replenish()
    {
        while (true)
        {
            // The place is taken under the lock, the process started outside it: a start takes milliseconds, and every
            // job that ends meanwhile waits for this lock.
            var place = new TaskCompletionSource<SandboxWorker>();
            lock (_accounting)
            {
                if (_disposed || _warm.Count + Volatile.Read(ref _busy) >= WarmTarget)
                {
                    return;
                }
                _warm.Add(place.Task);
            }
            var start = StartWorkerAsync(CancellationToken.None);
            start.ContinueWith(static (t, place) => ((TaskCompletionSource<SandboxWorker>)place!).TrySetFromTask(t), place, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            place.Task.ContinueWith(t => _logger.SandboxWorkerFailed(t.Exception!.GetBaseException()), CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task<SandboxWorker> StartWorkerAsync(CancellationToken ct)
    {
        var worker = SandboxWorker.Start(_command, _engine, _sandbox.Limits, _threads, _kernel, reused: !_sandbox.ProcessPerJob);
        Interlocked.Increment(ref _started);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(s_startTimeout);
            await worker.WaitReadyAsync(timeout.Token).ConfigureAwait(false);
            _logger.SandboxWorkerStarted(worker.Pid);
            if (_disposed)
            {
                worker.Dispose();
                throw new ObjectDisposedException(nameof(SandboxExecutor));
            }
            return worker;
        }
        catch
        {
            worker.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        while (_warm.TryTake(out var pending))
        {
            pending.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }
}

/// <summary>One worker process: its control group, its pipes, and what is known about how it ended.</summary>
internal sealed class SandboxWorker : IDisposable
{
    private readonly Process _process;
    private readonly KernelGroup? _group;
    private readonly SandboxLimits _limits;
    private readonly string _directory;
    private readonly StringBuilder _stderr = new();
    private int _killed;
    private int _disposed;
    private int _jobs;
    private readonly Lock _stdin = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private JobReceiver? _receiving;
    private volatile bool _outputEnded;

    private SandboxWorker(Process process, KernelGroup? group, SandboxLimits limits, string directory)
    {
        _process = process;
        _group = group;
        _limits = limits;
        _directory = directory;
    }

    public int Pid { get; private set; }

    /// <summary>The last job ended with its result or an SQL error, and the worker is ready for another.</summary>
    public bool EndedCleanly { get; private set; }

    public bool Exited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>
    /// Tiered compilation recompiles a hot method optimised only after its calls are counted, and it starts counting
    /// only once 100 ms have passed without a method being compiled for the first time. A worker serving a job every few
    /// milliseconds stayed on its first, unoptimised code for more than a thousand jobs, and at steady state still cost
    /// more per job than with counting at once (docs/BENCHMARKS.md, seventeenth round). Counting at once costs a young
    /// process more compiling (a one-shot <c>duckton sql</c> about 200 ms of CPU; a fresh grid's first query 200 ms when
    /// its hosts counted at once too); a reused worker starts ahead of its jobs, so it pays that off their path.
    /// </summary>
    internal const string CallCountingDelayVariable = "DOTNET_TC_CallCountingDelayMs";

    /// <param name="reused">The worker serves job after job (not a fresh process per job): it counts calls at once.</param>
    public static SandboxWorker Start(IReadOnlyList<string> command, EngineOptions engine, SandboxLimits limits, int threads, KernelSandbox kernel, bool reused)
    {
        var group = kernel.CreateGroup(limits, threads);
        var directory = Directory.CreateTempSubdirectory("duckton-sandbox-").FullName; // empty, owner-only; DuckDB's default spill place
        try
        {
            // sh joins the control groups, then execs (unshare into an empty network namespace, then) the worker: it never runs outside them.
            var psi = new ProcessStartInfo("/bin/sh")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 97; shift; done; shift; exec \"$@\"");
            psi.ArgumentList.Add("sh");
            foreach (var procs in group?.ProcsFiles ?? [])
            {
                psi.ArgumentList.Add(procs);
            }
            psi.ArgumentList.Add("--");
            foreach (var a in kernel.NetPrefix)
            {
                psi.ArgumentList.Add(a);
            }
            foreach (var a in command)
            {
                psi.ArgumentList.Add(a);
            }
            psi.ArgumentList.Add(SandboxWorkerProcess.Subcommand);
            void Arg(string name, string value)
            {
                psi.ArgumentList.Add(name);
                psi.ArgumentList.Add(value);
            }
            var inv = CultureInfo.InvariantCulture;
            Arg("--memory", engine.MemoryLimitBytes.ToString(inv));
            Arg("--threads", Math.Max(1, threads).ToString(inv));
            Arg("--max-result", engine.MaxResultBytes.ToString(inv));
            foreach (var dir in engine.AllowedDirectories)
            {
                Arg("--allowed", dir);
            }
            if (engine.SpillPolicy is { } spill)
            {
                Arg("--spill-policy", spill.ToString());
                Arg("--spill-dir", engine.SpillDirectory);
            }
            if (kernel.MemoryByRlimit && limits.MemoryBytes > 0)
            {
                Arg("--rlimit-as", limits.MemoryBytes.ToString(inv));
                // The managed heap reserves its range up front; capped, it cannot hide growth from the address-space limit.
                psi.Environment["DOTNET_GCHeapHardLimit"] = "0x" + Math.Max(32L << 20, limits.MemoryBytes).ToString("x", inv);
            }
            if (limits.CpuTime > TimeSpan.Zero)
            {
                Arg("--rlimit-cpu", limits.CpuTime.TotalSeconds.ToString("0.###", inv));
            }
            if (limits.MaxFileSizeBytes > 0)
            {
                Arg("--rlimit-fsize", limits.MaxFileSizeBytes.ToString(inv));
            }
            if (limits.MaxOpenFiles > 0)
            {
                Arg("--rlimit-nofile", limits.MaxOpenFiles.ToString(inv));
            }
            if (limits.MaxProcesses > 0 && kernel.MemoryByRlimit)
            {
                Arg("--rlimit-nproc", limits.MaxProcesses.ToString(inv));
            }
            psi.Environment["DOTNET_gcServer"] = "0";
            psi.Environment["DOTNET_TieredPGO"] = "0";
            if (reused && Environment.GetEnvironmentVariable(CallCountingDelayVariable) is null)
            {
                psi.Environment[CallCountingDelayVariable] = "0"; // never over a value the environment already has
            }
            var process = new Process { StartInfo = psi };
            var worker = new SandboxWorker(process, group, limits, directory);
            process.ErrorDataReceived += (_, e) => worker.Stderr(e.Data);
            process.Start();
            worker.Pid = process.Id;
            process.BeginErrorReadLine();
            new Thread(worker.ReadOutput, 256 << 10) { IsBackground = true, Name = "sandbox worker output" }.Start();
            return worker;
        }
        catch
        {
            group?.Dispose();
            TryDeleteDirectory(directory);
            throw;
        }
    }

    private void Stderr(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_stderr)
        {
            if (_stderr.Length > 4096)
            {
                _stderr.Remove(0, _stderr.Length - 2048);
            }
            _stderr.AppendLine(line);
        }
    }

    public Task WaitReadyAsync(CancellationToken ct) => _ready.Task.WaitAsync(ct);

    /// <summary>
    /// Sends the job, then receives its result batch by batch, spooled past <paramref name="spoolMemory"/> bytes, and its
    /// hash. The worker's output is read by the worker's own thread (<see cref="ReadOutput"/>), which ends the returned
    /// task with the job's last frame, or when a killed worker's pipe closes.
    /// </summary>
    public Task<ExecutedJob> RunAsync(string sql, string spillDirectory, long spoolMemory)
    {
        EndedCleanly = false;
        var job = new JobReceiver(this, spillDirectory, spoolMemory);
        Interlocked.Exchange(ref _receiving, job); // before the job is sent (its first frame may come back at once); a full fence before _outputEnded is read
        try
        {
            Send(SandboxPipe.Query, Encoding.UTF8.GetBytes(sql));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            Interlocked.CompareExchange(ref _receiving, null, job);
            job.Fail(Died("it ended before taking the job"));
        }
        if (_outputEnded && Interlocked.CompareExchange(ref _receiving, null, job) == job)
        {
            // Its output thread already stopped (the pipe closed, or a frame came while it was idle): nothing would read the answer.
            job.Fail(Died("its output had ended"));
        }
        return job.Result;
    }

    /// <summary>One frame to the worker's stdin as a single write (one wake-up of its reader), under the stdin lock.</summary>
    private void Send(byte type, ReadOnlySpan<byte> payload)
    {
        var frame = ArrayPool<byte>.Shared.Rent(SandboxPipe.HeaderBytes + payload.Length);
        try
        {
            var length = SandboxPipe.Encode(type, payload, frame);
            lock (_stdin)
            {
                var input = _process.StandardInput.BaseStream;
                input.Write(frame, 0, length);
                input.Flush();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>
    /// The worker's output, read on a thread of its own for the worker's life: a pipe has no asynchronous reads on Unix,
    /// so awaiting each read parked a pool thread per read and hopped threads twice per frame (three frames for a small
    /// result). This thread blocks in the read and hands the job over only once, with its last frame.
    /// </summary>
    private void ReadOutput()
    {
        var when = "its output broke off";
        Exception? ended = null;
        try
        {
            using var output = new BufferedStream(_process.StandardOutput.BaseStream, 1 << 16);
            if (SandboxPipe.Read(output) is not { } first)
            {
                when = "it ended while starting";
                return;
            }
            ArrayPool<byte>.Shared.Return(first.Buffer);
            if (first.Type != SandboxPipe.Ready)
            {
                ended = new InvalidOperationException("the sandbox worker sent an unexpected first frame");
                return;
            }
            _ready.TrySetResult();
            while (SandboxPipe.Read(output) is { } frame)
            {
                try
                {
                    var job = Volatile.Read(ref _receiving) ?? throw new InvalidDataException($"the sandbox worker sent a frame '{(char)frame.Type}' with no job running");
                    job.Receive(frame.Type, frame.Buffer.AsSpan(0, frame.Length));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(frame.Buffer);
                }
            }
            when = "it ended while running the job";
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The pipe broke or was closed: why is the process's to tell (below).
        }
        catch (Exception e)
        {
            ended = e; // a malformed or unexpected frame: the worker is not reused (its job did not end cleanly)
        }
        finally
        {
            // Nothing escapes this thread: a worker disposed meanwhile makes the process's state unreadable.
            _outputEnded = true;
            var job = Interlocked.Exchange(ref _receiving, null);
            if (job is not null || !_ready.Task.IsCompleted)
            {
                try
                {
                    ended ??= Died(when);
                }
                catch (Exception e)
                {
                    ended = e;
                }
                _ready.TrySetException(ended);
                job?.Fail(ended);
            }
        }
    }

    /// <summary>One job's frames, as the output thread receives them: its schema, its spooled batches and how it ended.</summary>
    private sealed class JobReceiver(SandboxWorker worker, string spillDirectory, long spoolMemory) : IDisposable
    {
        // The job's continuation runs on the output thread that completes it (until its next wait): handing it to the
        // pool would wake a second thread per job, the hand-off this thread is there to save.
        private readonly TaskCompletionSource<ExecutedJob> _result = new();
        private ResultSchema? _schema;
        private EncodedSpool? _spool;

        public Task<ExecutedJob> Result => _result.Task;

        /// <summary>Takes one frame; the last one (the result, or why there is none) ends the job and detaches it from the worker.</summary>
        /// <exception cref="InvalidDataException">A frame the protocol does not allow here: the reading stops.</exception>
        public void Receive(byte type, ReadOnlySpan<byte> payload)
        {
            switch (type)
            {
                case SandboxPipe.Schema when _spool is null:
                    _schema = BatchCodec.DecodeSchema(payload);
                    // Kept as the worker encoded it: the fetch forwards these bytes, and rows are decoded only if read here.
                    _spool = new EncodedSpool(_schema, spoolMemory, spillDirectory);
                    return;
                case SandboxPipe.Batch when _spool is not null:
                    try
                    {
                        _spool.Add(payload); // copied or written out: the pooled frame buffer goes back after this
                    }
                    catch (CodecException e)
                    {
                        throw new InvalidDataException($"the sandbox worker sent a malformed result batch: {e.Message}", e);
                    }
                    return;
                case SandboxPipe.Done when _spool is not null:
                    var done = new ExecutedJob(new ResultSet(_schema!, _spool, _spool.RowCount), Encoding.UTF8.GetString(payload));
                    _spool = null;
                    End(cleanly: true).TrySetResult(done);
                    return;
                case SandboxPipe.Memory:
                    End(cleanly: false);
                    Fail(new JobLimitException($"memory limit: the job exceeded its memory budget of {worker._limits.MemoryBytes >> 20} MiB ({Encoding.UTF8.GetString(payload)})"));
                    return;
                case SandboxPipe.Error:
                    End(cleanly: true);
                    Fail(new InvalidOperationException(Encoding.UTF8.GetString(payload)));
                    return;
                case SandboxPipe.Cancelled:
                    End(cleanly: true);
                    Fail(new OperationCanceledException("the worker stopped the job on a cancel"));
                    return;
                default:
                    throw new InvalidDataException($"the sandbox worker sent an unexpected frame '{(char)type}'");
            }
        }

        /// <summary>Detaches the job from the worker before its task completes: the worker may be handed the next job at once.</summary>
        private TaskCompletionSource<ExecutedJob> End(bool cleanly)
        {
            worker.EndedCleanly = cleanly;
            Interlocked.CompareExchange(ref worker._receiving, null, this);
            return _result;
        }

        public void Fail(Exception e)
        {
            Dispose();
            _result.TrySetException(e);
        }

        /// <summary>Drops what was spooled of a job that will not end with its result.</summary>
        public void Dispose()
        {
            _spool?.Dispose();
            _spool = null;
        }
    }

    /// <summary>Why the worker ended (the kernel's OOM killer, the CPU time limit, or a crash), as the job's error.</summary>
    private Exception Died(string when)
    {
        try
        {
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        var code = Exited ? _process.ExitCode : -1;
        if (Volatile.Read(ref _killed) != 0)
        {
            return new OperationCanceledException("the job's worker process was killed");
        }
        if (_group?.OomKilled() == true)
        {
            return new JobLimitException($"memory limit: the job exceeded its memory budget of {_limits.MemoryBytes >> 20} MiB; the kernel stopped its worker process and the memory is returned");
        }
        if (code == 128 + 24 || (code == 128 + 9 && _limits.CpuTime > TimeSpan.Zero))
        {
            return new JobLimitException($"CPU time limit: the job used more than {_limits.CpuTime.TotalSeconds:0.###} s of CPU (sandbox.limits.cpu_seconds); its worker process was stopped");
        }
        string tail;
        lock (_stderr)
        {
            tail = _stderr.ToString().Trim();
        }
        if (tail.Contains("OutOfMemory", StringComparison.Ordinal) || tail.Contains("Out of memory", StringComparison.OrdinalIgnoreCase) || tail.Contains("bad_alloc", StringComparison.Ordinal))
        {
            return new JobLimitException($"memory limit: the job exceeded its memory budget of {_limits.MemoryBytes >> 20} MiB; its worker process could not allocate more and ended");
        }
        return new InvalidOperationException($"the sandboxed worker process failed: {when} (exit code {code}){(tail.Length > 0 ? ": " + tail[Math.Max(0, tail.Length - 500)..] : "")}");
    }

    /// <summary>The number the worker gives the next job it is sent (it counts its <c>Q</c> frames from 1).</summary>
    public int NextJob() => Interlocked.Increment(ref _jobs);

    /// <summary>True once <see cref="Kill"/> ran: the worker is never reused.</summary>
    public bool WasKilled => Volatile.Read(ref _killed) != 0;

    /// <summary>
    /// Asks the worker to stop job <paramref name="job"/> (running or about to start: it interrupts DuckDB and answers <c>X</c>). Never throws and never blocks
    /// the caller (a cancel callback): the frame is written on the thread pool, after any job frame being written.
    /// </summary>
    public void Interrupt(int job)
    {
        ThreadPool.UnsafeQueueUserWorkItem(static s =>
        {
            var (worker, job) = s;
            Span<byte> payload = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)job);
            try
            {
                worker.Send(SandboxPipe.Cancel, payload);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The worker is gone or being disposed: nothing left to stop.
            }
        }, (this, job), preferLocal: false);
    }

    /// <summary>Kills the process at once (SIGKILL): the kernel takes back all its memory.</summary>
    public void Kill()
    {
        Interlocked.Exchange(ref _killed, 1);
        try
        {
            _process.Kill(entireProcessTree: false);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (!Exited)
        {
            try
            {
                // A clean end first (stdin closed), so a reused worker is not counted as killed; then the hard way.
                _process.StandardInput.Close();
                if (!_process.WaitForExit(200))
                {
                    Kill();
                    _process.WaitForExit(5000);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or IOException)
            {
                Kill();
            }
        }
        _process.Dispose();
        _group?.Dispose();
        TryDeleteDirectory(_directory);
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the system's temp cleaner.
        }
    }
}

/// <summary>
/// The idle workers and those still starting. The next job takes the worker that finished a job most recently (one
/// that is ready before one still starting): the same few processes serve a steady stream of jobs and stay hot, their
/// code compiled to its fastest tier, while extra workers kept for overlaps are used only when jobs overlap. Taking them
/// in turn spread every job over all of them, and each paid its own JIT warm-up.
/// </summary>
internal sealed class WorkerPool
{
    private readonly Lock _gate = new();
    private readonly List<Task<SandboxWorker>> _workers = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _workers.Count;
            }
        }
    }

    public void Add(Task<SandboxWorker> worker)
    {
        lock (_gate)
        {
            _workers.Add(worker);
        }
    }

    public bool TryTake([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Task<SandboxWorker>? worker)
    {
        lock (_gate)
        {
            var at = _workers.FindLastIndex(static t => t.IsCompletedSuccessfully);
            if (at < 0)
            {
                at = _workers.Count - 1;
            }
            if (at < 0)
            {
                worker = null;
                return false;
            }
            worker = _workers[at];
            _workers.RemoveAt(at);
            return true;
        }
    }
}
