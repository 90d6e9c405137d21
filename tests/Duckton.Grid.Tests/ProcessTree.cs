using System.Globalization;

namespace Duckton.Grid.Tests;

/// <summary>What /proc says about a process and the processes it started (a host and its sandbox workers).</summary>
public static class ProcessTree
{
    /// <summary>Every live descendant of <paramref name="pid"/>.</summary>
    public static List<int> Descendants(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                (children.TryGetValue(ppid, out var l) ? l : children[ppid] = []).Add(p);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // Gone meanwhile.
            }
        }
        var result = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.Count > 0)
        {
            foreach (var c in children.GetValueOrDefault(queue.Dequeue()) ?? [])
            {
                result.Add(c);
                queue.Enqueue(c);
            }
        }
        return result;
    }

    /// <summary>The sandbox workers of a host: its descendants running the hidden sandbox-worker subcommand.</summary>
    public static List<int> SandboxWorkers(int hostPid) =>
        [.. Descendants(hostPid).Where(p => CommandLine(p).Contains("sandbox-worker", StringComparison.Ordinal))];

    /// <summary>One variable of a process's environment as it started (null when unset or the process is gone).</summary>
    public static string? EnvironmentVariable(int pid, string name)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/environ").Split('\0').FirstOrDefault(e => e.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>CPU seconds (utime + stime) of one process, 0 when it is gone.</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>CPU seconds of a process and its live descendants (a host's jobs run in its sandbox workers).</summary>
    public static double TreeCpuSeconds(int pid) => CpuSeconds(pid) + Descendants(pid).Sum(CpuSeconds);

    /// <summary>Resident memory of one process in bytes (VmRSS), 0 when it is gone.</summary>
    public static long RssBytes(int pid) => StatusKb(pid, "VmRSS:") * 1024;

    /// <summary>Peak resident memory of one process in bytes (VmHWM).</summary>
    public static long PeakRssBytes(int pid) => StatusKb(pid, "VmHWM:") * 1024;

    private static long StatusKb(int pid, string key)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    /// <summary>A limit line of /proc/PID/limits, e.g. "Max open files": its soft value ("unlimited" or a number).</summary>
    public static string Limit(int pid, string name)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/limits"))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                return line[name.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            }
        }
        throw new InvalidOperationException($"no '{name}' in /proc/{pid}/limits");
    }

    /// <summary>The cgroup v1 path of <paramref name="pid"/> for <paramref name="controller"/> (e.g. "memory"), or null.</summary>
    public static string? CgroupV1Path(int pid, string controller)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3 && parts[1].Split(',').Contains(controller))
            {
                return parts[2];
            }
        }
        return null;
    }
}
