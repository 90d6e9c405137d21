using System.Diagnostics;
using System.Globalization;
using Duckton.Core.Configuration;

namespace Duckton.Node.Grid.Execution;

/// <summary>A control group holding one worker process: its limits are enforced by the kernel.</summary>
internal abstract class KernelGroup : IDisposable
{
    /// <summary>The <c>cgroup.procs</c> files the worker writes its pid into before it starts (so it never runs unlimited).</summary>
    public abstract IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>True when the kernel's out-of-memory killer ended a process of this group.</summary>
    public abstract bool OomKilled();

    public abstract void Dispose();

    protected static void Write(string file, string value) => File.WriteAllText(file, value);

    protected static string Read(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Removes group directories; a group empties a moment after its last process is reaped, so this retries briefly.</summary>
    protected static void RemoveDirectories(IEnumerable<string> directories)
    {
        foreach (var dir in directories)
        {
            for (var attempt = 0; attempt < 50 && Directory.Exists(dir); attempt++)
            {
                try
                {
                    Directory.Delete(dir); // rmdir: cgroupfs directories are removed empty, their control files go with them
                }
                catch (IOException)
                {
                    Thread.Sleep(10);
                }
                catch (UnauthorizedAccessException)
                {
                    break;
                }
            }
        }
    }

    protected static long Counter(string text, string key)
    {
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            {
                return n;
            }
        }
        return 0;
    }
}

/// <summary>
/// Which kernel mechanism limits worker processes on this machine: cgroup v2, cgroup v1 (both need write access to the
/// hierarchy, e.g. root), or rlimits set by the worker on itself; plus an empty network namespace when <c>unshare</c>
/// can make one.
/// </summary>
internal sealed class KernelSandbox
{
    private const string Root = "/sys/fs/cgroup";
    private static int s_groups;

    private KernelSandbox(string kind, IReadOnlyList<string> netPrefix, string network)
    {
        Kind = kind;
        NetPrefix = netPrefix;
        Network = network;
    }

    /// <summary>"cgroup v2", "cgroup v1", "rlimits" or "none".</summary>
    public string Kind { get; }

    public bool UsesCgroups => Kind.StartsWith("cgroup", StringComparison.Ordinal);

    /// <summary>Under rlimits the memory budget is an address-space limit the worker sets on itself.</summary>
    public bool MemoryByRlimit => Kind == "rlimits";

    /// <summary>Prefix of the worker's command line that puts it in an empty network namespace (empty when none can be made).</summary>
    public IReadOnlyList<string> NetPrefix { get; }

    /// <summary>The worker's network, in words.</summary>
    public string Network { get; }

    public static KernelSandbox Choose(SandboxBackend backend)
    {
        var net = NetworkPrefix();
        var network = net.Count > 0 ? "none (empty network namespace)" : "the host's (unshare could not create a network namespace here)";
        string kind = backend switch
        {
            SandboxBackend.None => "none",
            SandboxBackend.Rlimit => "rlimits",
            SandboxBackend.Cgroups => CgroupKind() ?? throw new InvalidOperationException(
                "sandbox.backend = cgroups, but this process cannot create control groups (neither a writable cgroup v2 hierarchy with the memory controller nor cgroup v1 memory/cpu/pids; running as root usually needs to be the case); use sandbox.backend = 'auto' to fall back to rlimits"),
            _ => CgroupKind() ?? "rlimits",
        };
        return new KernelSandbox(kind, net, network);
    }

    private static string? CgroupKind()
    {
        if (File.Exists(Path.Combine(Root, "cgroup.controllers")) && Read(Path.Combine(Root, "cgroup.controllers")).Split(' ', '\n').Contains("memory") && CanCreate(Path.Combine(Root, "duckton")))
        {
            return "cgroup v2";
        }
        if (Directory.Exists(Path.Combine(Root, "memory")) && Directory.Exists(Path.Combine(Root, "cpu")) && Directory.Exists(Path.Combine(Root, "pids"))
            && CanCreate(Path.Combine(Root, "memory", "duckton")) && CanCreate(Path.Combine(Root, "cpu", "duckton")) && CanCreate(Path.Combine(Root, "pids", "duckton")))
        {
            return "cgroup v1";
        }
        return null;
    }

    private static bool CanCreate(string dir)
    {
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, "probe-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Read(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>
    /// <c>unshare -n</c> as root, else <c>unshare --user --map-root-user --net</c> (an unprivileged user namespace), if
    /// trying it here works.
    /// </summary>
    private static IReadOnlyList<string> NetworkPrefix()
    {
        string[][] candidates = Environment.UserName == "root" || IsRoot()
            ? [["unshare", "--net", "--"], ["unshare", "--user", "--map-root-user", "--net", "--"]]
            : [["unshare", "--user", "--map-root-user", "--net", "--"]];
        foreach (var prefix in candidates)
        {
            try
            {
                var psi = new ProcessStartInfo(prefix[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
                foreach (var a in prefix[1..])
                {
                    psi.ArgumentList.Add(a);
                }
                psi.ArgumentList.Add("true");
                using var p = Process.Start(psi);
                if (p is not null && p.WaitForExit(5000) && p.ExitCode == 0)
                {
                    return prefix;
                }
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                // unshare is missing: no network namespace.
            }
        }
        return [];
    }

    private static bool IsRoot()
    {
        foreach (var line in Read("/proc/self/status").Split('\n'))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                return line.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0";
            }
        }
        return false;
    }

    /// <summary>A new group for one worker with <paramref name="limits"/> (memory, processes) and <paramref name="threads"/> CPUs of bandwidth.</summary>
    public KernelGroup? CreateGroup(SandboxLimits limits, int threads)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"host-{Environment.ProcessId}-{Interlocked.Increment(ref s_groups)}");
        return Kind switch
        {
            "cgroup v2" => new CgroupV2(Path.Combine(Root, "duckton", name), limits, threads),
            "cgroup v1" => new CgroupV1(name, limits, threads),
            _ => null,
        };
    }

    /// <summary>Removes the groups of hosts that are no longer running (a killed host cannot remove its own).</summary>
    public void RemoveStaleGroups()
    {
        string[] parents = Kind switch
        {
            "cgroup v2" => [Path.Combine(Root, "duckton")],
            "cgroup v1" => [Path.Combine(Root, "memory", "duckton"), Path.Combine(Root, "cpu", "duckton"), Path.Combine(Root, "pids", "duckton")],
            _ => [],
        };
        foreach (var parent in parents.Where(Directory.Exists))
        {
            foreach (var dir in Directory.EnumerateDirectories(parent, "host-*"))
            {
                var parts = Path.GetFileName(dir).Split('-');
                if (parts.Length == 3 && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId && !Directory.Exists("/proc/" + parts[1]))
                {
                    try
                    {
                        Directory.Delete(dir);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // Still has processes (or not ours to remove): left alone.
                    }
                }
            }
        }
    }

    private sealed class CgroupV1 : KernelGroup
    {
        private readonly string[] _dirs;

        public CgroupV1(string name, SandboxLimits limits, int threads)
        {
            var memory = Path.Combine(Root, "memory", "duckton", name);
            var cpu = Path.Combine(Root, "cpu", "duckton", name);
            var pids = Path.Combine(Root, "pids", "duckton", name);
            _dirs = [memory, cpu, pids];
            foreach (var d in _dirs)
            {
                Directory.CreateDirectory(d);
            }
            try
            {
                if (limits.MemoryBytes > 0)
                {
                    Write(Path.Combine(memory, "memory.limit_in_bytes"), limits.MemoryBytes.ToString(CultureInfo.InvariantCulture));
                    // With swap on, memory alone would let the job swap; memsw caps memory + swap (absent without swap accounting).
                    var memsw = Path.Combine(memory, "memory.memsw.limit_in_bytes");
                    if (File.Exists(memsw))
                    {
                        Write(memsw, limits.MemoryBytes.ToString(CultureInfo.InvariantCulture));
                    }
                }
                Write(Path.Combine(cpu, "cpu.cfs_period_us"), "100000");
                Write(Path.Combine(cpu, "cpu.cfs_quota_us"), (Math.Max(1, threads) * 100000L).ToString(CultureInfo.InvariantCulture));
                if (limits.MaxProcesses > 0)
                {
                    Write(Path.Combine(pids, "pids.max"), limits.MaxProcesses.ToString(CultureInfo.InvariantCulture));
                }
            }
            catch
            {
                RemoveDirectories(_dirs);
                throw;
            }
        }

        public override IReadOnlyList<string> ProcsFiles => [.. _dirs.Select(d => Path.Combine(d, "cgroup.procs"))];

        public override bool OomKilled()
        {
            // oom_kill (kernels since 4.13); failcnt > 0 says the limit was hit, which with a SIGKILL means the same.
            var failcnt = Read(Path.Combine(_dirs[0], "memory.failcnt")).Trim();
            return Counter(Read(Path.Combine(_dirs[0], "memory.oom_control")), "oom_kill") > 0
                || (long.TryParse(failcnt, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0);
        }

        public override void Dispose() => RemoveDirectories(_dirs);
    }

    private sealed class CgroupV2 : KernelGroup
    {
        private readonly string _dir;

        public CgroupV2(string dir, SandboxLimits limits, int threads)
        {
            _dir = dir;
            var parent = Path.GetDirectoryName(dir)!;
            Directory.CreateDirectory(parent);
            // Controllers must be enabled down the path before a child group can use them.
            foreach (var level in new[] { Root, parent })
            {
                try
                {
                    Write(Path.Combine(level, "cgroup.subtree_control"), "+memory +cpu +pids");
                }
                catch (IOException)
                {
                    // Already enabled, or not delegatable: the limit writes below fail clearly if it matters.
                }
            }
            Directory.CreateDirectory(dir);
            try
            {
                if (limits.MemoryBytes > 0)
                {
                    Write(Path.Combine(dir, "memory.max"), limits.MemoryBytes.ToString(CultureInfo.InvariantCulture));
                    var swap = Path.Combine(dir, "memory.swap.max");
                    if (File.Exists(swap))
                    {
                        Write(swap, "0");
                    }
                }
                Write(Path.Combine(dir, "cpu.max"), string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, threads) * 100000L} 100000"));
                if (limits.MaxProcesses > 0)
                {
                    Write(Path.Combine(dir, "pids.max"), limits.MaxProcesses.ToString(CultureInfo.InvariantCulture));
                }
            }
            catch
            {
                RemoveDirectories([dir]);
                throw;
            }
        }

        public override IReadOnlyList<string> ProcsFiles => [Path.Combine(_dir, "cgroup.procs")];

        public override bool OomKilled() => Counter(Read(Path.Combine(_dir, "memory.events")), "oom_kill") > 0;

        public override void Dispose() => RemoveDirectories([_dir]);
    }
}
