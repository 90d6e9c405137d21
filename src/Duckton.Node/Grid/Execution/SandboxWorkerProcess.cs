using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Duckton.Core.Data;
using Duckton.Core.Hashing;
using Duckton.DuckDB;
using Duckton.Engine;

namespace Duckton.Node.Grid.Execution;

/// <summary>
/// The sandbox worker: a separate process (the CLI's hidden <c>sandbox-worker</c> subcommand) that runs one job at a time
/// in its own locked-down engine and streams the result to its host over stdout, batch by batch. Started by
/// <see cref="SandboxExecutor"/> already inside its control group and network namespace; under rlimits it limits itself
/// before reading any SQL. It also computes the result's canonical hash while DuckDB produces the chunks (sent with the
/// last frame).
/// </summary>
public static partial class SandboxWorkerProcess
{
    public const string Subcommand = "sandbox-worker";

    /// <summary>Runs the worker loop until the host closes stdin; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        long memory = 1L << 30, maxResult = 4L << 30, asBudget = 0, fsize = 0;
        int threads = 1, nofile = 0, nproc = 0;
        double cpuSeconds = 0;
        var allowed = new List<string>();
        global::Duckton.Core.Configuration.TempDirPolicy? spillPolicy = null;
        var spillDir = "";
        for (var i = 0; i + 1 < args.Count; i += 2)
        {
            var v = args[i + 1];
            switch (args[i])
            {
                case "--memory": memory = long.Parse(v, CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--max-result": maxResult = long.Parse(v, CultureInfo.InvariantCulture); break;
                case "--allowed": allowed.Add(v); break;
                case "--spill-policy": spillPolicy = Enum.Parse<global::Duckton.Core.Configuration.TempDirPolicy>(v); break;
                case "--spill-dir": spillDir = v; break;
                case "--rlimit-as": asBudget = long.Parse(v, CultureInfo.InvariantCulture); break;
                case "--rlimit-cpu": cpuSeconds = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--rlimit-fsize": fsize = long.Parse(v, CultureInfo.InvariantCulture); break;
                case "--rlimit-nofile": nofile = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--rlimit-nproc": nproc = int.Parse(v, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException("unknown sandbox-worker option " + args[i]);
            }
        }
        Duckton.DuckDB.Native.DuckDBNative.InitializeFromLibrary();
        using var engine = new LockedDownEngine(new EngineOptions
        {
            MemoryLimitBytes = memory,
            Threads = Math.Max(1, threads),
            WarmInstances = 1,
            MaxResultBytes = maxResult,
            AllowedDirectories = allowed,
            SpillPolicy = spillPolicy,
            SpillDirectory = spillDir,
        });
        // One query first, so the runtime, DuckDB and its threads are in place before the address space is capped.
        engine.ExecuteStreaming("SELECT 1", static _ => { }, static _ => { });
        if (asBudget > 0)
        {
            // The cap is what is mapped now plus the job's budget: untrusted SQL can grow the process by at most that.
            SetLimit(RlimitAs, (ulong)(VirtualBytes() + asBudget));
        }
        if (fsize > 0)
        {
            SetLimit(RlimitFsize, (ulong)fsize);
        }
        if (nofile > 0)
        {
            SetLimit(RlimitNofile, (ulong)Math.Max(nofile, OpenFiles() + 16));
        }
        if (nproc > 0)
        {
            SetLimit(RlimitNproc, (ulong)nproc);
        }
        using var stdin = Console.OpenStandardInput();
        using var stdout = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
        SandboxPipe.Write(stdout, SandboxPipe.Ready, []);
        stdout.Flush();
        // stdin is read on its own thread so a cancel reaches the job while it runs: the engine is interrupted and this
        // process stays warm for the next job (a kill would cost the host a new process). The host still kills us if
        // the interrupt does not end the job within its grace.
        var jobs = new System.Collections.Concurrent.BlockingCollection<(int Number, string Sql)>();
        var current = new Job();
        var encoded = new ArrayBufferWriter<byte>(64 << 10);
        var reader = new Thread(() => ReadCommands(stdin, jobs, current)) { IsBackground = true, Name = "sandbox stdin" };
        reader.Start();
        foreach (var (number, sql) in jobs.GetConsumingEnumerable())
        {
            if (sql.Length == 0 && number < 0)
            {
                return 2; // an unexpected frame
            }
            if (cpuSeconds > 0)
            {
                MoveCpuLimit(cpuSeconds);
            }
            using var cancel = current.Begin(number);
            // One encoding buffer for all jobs (one runs at a time); a large result's grown buffer is not kept.
            if (encoded.Capacity > 1 << 20)
            {
                encoded = new ArrayBufferWriter<byte>(64 << 10);
            }
            RunOne(engine, sql, stdout, memory, encoded, cancel.Token);
            current.End();
            stdout.Flush();
        }
        RemoveWorkingDirectory();
        return 0; // the host closed the pipe (it is done with this worker, or it exited)
    }

    /// <summary>RLIMIT_CPU counts the whole process: its soft cap becomes what this process has used so far plus one job's share.</summary>
    internal static void MoveCpuLimit(double jobSeconds) =>
        SetLimit(RlimitCpu, (ulong)Math.Ceiling(Environment.CpuUsage.TotalTime.TotalSeconds + jobSeconds), soft: true);

    /// <summary>The job being run (its number and cancel source), shared by the job loop and the stdin reader.</summary>
    private sealed class Job
    {
        private readonly Lock _gate = new();
        private int _number;
        private int _cancelledUpTo;
        private CancellationTokenSource? _cancel;

        public CancellationTokenSource Begin(int number)
        {
            var cts = new CancellationTokenSource();
            lock (_gate)
            {
                _number = number;
                _cancel = cts;
                if (_cancelledUpTo >= number)
                {
                    cts.Cancel(); // cancelled before it started
                }
            }
            return cts;
        }

        public void End()
        {
            lock (_gate)
            {
                _cancel = null;
            }
        }

        /// <summary>Stops job <paramref name="number"/> if it runs now or has not started yet; a cancel for a finished job is ignored.</summary>
        public void Cancel(int number)
        {
            lock (_gate)
            {
                _cancelledUpTo = Math.Max(_cancelledUpTo, number);
                if (_cancel is not null && _number == number)
                {
                    _cancel.Cancel();
                }
            }
        }
    }

    private static void ReadCommands(Stream stdin, System.Collections.Concurrent.BlockingCollection<(int Number, string Sql)> jobs, Job current)
    {
        var received = 0;
        try
        {
            while (SandboxPipe.Read(stdin) is { } f)
            {
                try
                {
                    if (f.Type == SandboxPipe.Query)
                    {
                        jobs.Add((++received, Encoding.UTF8.GetString(f.Buffer, 0, f.Length)));
                    }
                    else if (f.Type == SandboxPipe.Cancel && f.Length == 4)
                    {
                        current.Cancel((int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(f.Buffer));
                    }
                    else
                    {
                        jobs.Add((-1, ""));
                        return;
                    }
                }
                finally
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(f.Buffer);
                }
            }
        }
        catch (IOException)
        {
            // The host went away: the same as a closed pipe.
        }
        finally
        {
            jobs.CompleteAdding();
        }
    }

    /// <summary>
    /// Runs one job and sends its result as DuckDB produces it: the schema frame, then each chunk hashed and written
    /// as it arrives, and Done with the hash right after the last one. Neither DuckDB nor this process holds the whole
    /// result (a streaming result; only the hash's 32-byte row digests grow with it). A failure after some batches
    /// went out ends the job with its error frame: the host discards what it received.
    /// </summary>
    internal static void RunOne(LockedDownEngine engine, string sql, Stream stdout, long memory, ArrayBufferWriter<byte> encoded, CancellationToken ct)
    {
        // The canonical hash keeps a digest per row (32 bytes): that belongs in the worker's budget, not in the host.
        CanonicalResultHasher? hasher = null;
        // One buffer for every batch's encoding (reset, not cleared): no array is allocated, zeroed and copied per batch or per job.
        try
        {
            engine.ExecuteStreaming(sql, schema =>
            {
                hasher = new CanonicalResultHasher(schema);
                SandboxPipe.Write(stdout, SandboxPipe.Schema, BatchCodec.EncodeSchema(schema));
            }, batch =>
            {
                ct.ThrowIfCancellationRequested(); // a materialised result (not a lone SELECT) is not interrupted by DuckDB
                hasher!.Add(batch);
                encoded.ResetWrittenCount();
                BatchCodec.EncodeBatch(batch, encoded);
                SandboxPipe.Write(stdout, SandboxPipe.Batch, encoded.WrittenSpan);
            }, ct);
        }
        catch (OperationCanceledException)
        {
            SandboxPipe.Write(stdout, SandboxPipe.Cancelled, []);
            return;
        }
        catch (DuckDBException e) when (e.Message.Contains("Out of Memory", StringComparison.OrdinalIgnoreCase))
        {
            SandboxPipe.Write(stdout, SandboxPipe.Memory, Encoding.UTF8.GetBytes(e.Message));
            return;
        }
        catch (OutOfMemoryException)
        {
            SandboxPipe.Write(stdout, SandboxPipe.Memory, Encoding.UTF8.GetBytes($"the worker ran out of memory within its budget of {memory >> 20} MiB"));
            return;
        }
        catch (Exception e) when (e is not IOException) // a broken pipe: the host is gone, as before
        {
            SandboxPipe.Write(stdout, ct.IsCancellationRequested ? SandboxPipe.Cancelled : SandboxPipe.Error, ct.IsCancellationRequested ? [] : Encoding.UTF8.GetBytes(e.Message));
            return;
        }
        SandboxPipe.Write(stdout, SandboxPipe.Done, Encoding.UTF8.GetBytes(hasher!.Finish().ToString()));
    }

    /// <summary>The fresh directory the host made for this worker: removed here too, since a host that exits does not wait.</summary>
    private static void RemoveWorkingDirectory()
    {
        var dir = Environment.CurrentDirectory;
        if (Path.GetFileName(dir).StartsWith("duckton-sandbox-", StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The host removes it, or the system's temp cleaner does.
            }
        }
    }

    private const int RlimitCpu = 0;
    private const int RlimitFsize = 1;
    private const int RlimitNproc = 6;
    private const int RlimitNofile = 7;
    private const int RlimitAs = 9;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    /// <summary>Sets a limit (soft and hard, or only the soft one so it can be moved again for the next job).</summary>
    private static void SetLimit(int resource, ulong value, bool soft = false)
    {
        var limit = new RLimit { Current = value, Maximum = value };
        if (soft && GetRLimit(resource, out var current) == 0)
        {
            limit.Maximum = current.Maximum;
        }
        if (SetRLimit(resource, limit) != 0)
        {
            throw new InvalidOperationException($"setrlimit({resource}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static long VirtualBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmSize:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmSize:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    private static int OpenFiles() => Directory.GetFiles("/proc/self/fd").Length;
}
