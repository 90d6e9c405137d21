using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Duckton.Node;

/// <summary>
/// A privacy-preserving hardware/OS profile of this machine for <c>p2p_node_metadata()</c>: capacities and kinds
/// only — never hostnames, addresses, MACs, machine ids, user names or paths. Self-reported: a hint for operators,
/// never a trust input.
/// </summary>
internal static class SystemProfile
{
    /// <summary>Collects <c>(group, key, value)</c> rows; anything unreadable is <c>unknown</c>.</summary>
    public static IReadOnlyList<(string Group, string Key, string Value)> Collect(string dataDirectory, string engineVersion, string extensionVersion, long donatedMemoryBytes, int donatedThreads)
    {
        var rows = new List<(string, string, string)>();
        var cpuinfo = ReadText("/proc/cpuinfo");
        var meminfo = ParseKeyValues(ReadText("/proc/meminfo"), ':');
        var osRelease = ParseKeyValues(ReadText("/etc/os-release"), '=');
        var flags = (FirstValue(cpuinfo, "flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        string[] interesting = ["sse4_2", "avx", "avx2", "avx512f", "avx512bw", "avx512vl", "aes", "sha_ni", "bmi2", "neon", "asimd"];

        rows.Add(("cpu", "arch", RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()));
        rows.Add(("cpu", "model", FirstValue(cpuinfo, "model name") ?? "unknown"));
        rows.Add(("cpu", "physical_cores", PhysicalCores(cpuinfo)));
        rows.Add(("cpu", "logical_cores", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)));
        rows.Add(("cpu", "max_freq_mhz", ReadText("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") is { Length: > 0 } khz && long.TryParse(khz.Trim(), out var k) ? (k / 1000).ToString(CultureInfo.InvariantCulture) : "unknown"));
        rows.Add(("cpu", "features", string.Join(',', interesting.Where(flags.Contains))));
        rows.Add(("memory", "ram_total_bytes", KiB(meminfo, "MemTotal")));
        rows.Add(("memory", "ram_available_bytes", KiB(meminfo, "MemAvailable")));
        rows.Add(("memory", "swap_total_bytes", KiB(meminfo, "SwapTotal")));
        var disk = Disk(dataDirectory);
        rows.Add(("disk", "total_bytes", disk.Total));
        rows.Add(("disk", "available_bytes", disk.Available));
        rows.Add(("os", "name", Unquote(osRelease.GetValueOrDefault("NAME")) ?? RuntimeInformation.OSDescription));
        rows.Add(("os", "version", Unquote(osRelease.GetValueOrDefault("VERSION_ID")) ?? "unknown"));
        rows.Add(("os", "kernel_version", ReadText("/proc/sys/kernel/osrelease")?.Trim() ?? "unknown"));
        rows.Add(("os", "virt_hint", VirtHint(flags)));
        rows.Add(("os", "numa_nodes", Directory.Exists("/sys/devices/system/node")
            ? Directory.GetDirectories("/sys/devices/system/node", "node*").Length.ToString(CultureInfo.InvariantCulture) : "unknown"));
        rows.Add(("build", "engine_version", engineVersion));
        rows.Add(("build", "extension_version", extensionVersion));
        rows.Add(("build", "runtime", RuntimeInformation.FrameworkDescription));
        rows.Add(("limits", "cgroup_memory_max_bytes", ReadText("/sys/fs/cgroup/memory.max")?.Trim() ?? "unknown"));
        rows.Add(("limits", "cgroup_cpu_quota", ReadText("/sys/fs/cgroup/cpu.max")?.Trim() ?? "unknown"));
        rows.Add(("budget", "donated_mem_bytes", donatedMemoryBytes.ToString(CultureInfo.InvariantCulture)));
        rows.Add(("budget", "donated_threads", donatedThreads.ToString(CultureInfo.InvariantCulture)));
        return rows;
    }

    /// <summary>The bytes a profile's signature covers: each row as group 0x00 key 0x00 value 0x0A, in order, after a domain string.</summary>
    public static byte[] SignedBytes(string nodeId, long collectedAtUnix, IEnumerable<(string Group, string Key, string Value)> rows)
    {
        var sb = new StringBuilder("duckdb-p2p-node-metadata-v1\n");
        sb.Append(nodeId).Append('\n').Append(collectedAtUnix.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (g, k, v) in rows)
        {
            sb.Append(g).Append('\0').Append(k).Append('\0').Append(v).Append('\n');
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static Dictionary<string, string> ParseKeyValues(string? text, char separator)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (text ?? "").Split('\n'))
        {
            var i = line.IndexOf(separator);
            if (i > 0)
            {
                d.TryAdd(line[..i].Trim(), line[(i + 1)..].Trim());
            }
        }
        return d;
    }

    private static string? FirstValue(string? cpuinfo, string key) =>
        (cpuinfo ?? "").Split('\n').Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim() == key).Select(p => p[1].Trim()).FirstOrDefault();

    private static string PhysicalCores(string? cpuinfo)
    {
        var pairs = new HashSet<string>(StringComparer.Ordinal);
        string physical = "0";
        foreach (var line in (cpuinfo ?? "").Split('\n'))
        {
            var p = line.Split(':', 2);
            if (p.Length != 2)
            {
                continue;
            }
            switch (p[0].Trim())
            {
                case "physical id":
                    physical = p[1].Trim();
                    break;
                case "core id":
                    pairs.Add(physical + "/" + p[1].Trim());
                    break;
            }
        }
        return pairs.Count > 0 ? pairs.Count.ToString(CultureInfo.InvariantCulture) : "unknown";
    }

    private static string KiB(Dictionary<string, string> meminfo, string key) =>
        meminfo.TryGetValue(key, out var v) && long.TryParse(v.Split(' ')[0], out var kib) ? (kib * 1024).ToString(CultureInfo.InvariantCulture) : "unknown";

    private static (string Total, string Available) Disk(string directory)
    {
        try
        {
            var drive = new DriveInfo(Path.GetFullPath(directory));
            return (drive.TotalSize.ToString(CultureInfo.InvariantCulture), drive.AvailableFreeSpace.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return ("unknown", "unknown");
        }
    }

    private static string VirtHint(HashSet<string> flags)
    {
        if (File.Exists("/.dockerenv") || (ReadText("/proc/1/cgroup") ?? "").Contains("docker", StringComparison.Ordinal))
        {
            return "container";
        }
        return flags.Contains("hypervisor") ? "vm" : "unknown";
    }

    private static string? Unquote(string? s) => s?.Trim().Trim('"');
}
