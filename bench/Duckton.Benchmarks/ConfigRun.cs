using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Duckton.Core.Configuration;
using Duckton.Core.Hashing;

namespace Duckton.Benchmarks;

/// <summary>
/// The per-query configuration access: <c>ConfigStore.Effective()</c> (what every query and gossip round asks for) and
/// <c>Effective(overrides)</c> (a <c>p2p_query</c> with options), on a config directory with a <c>config.toml</c> and a
/// <c>runtime.toml</c>, against an anchor measured in the same run (BLAKE3 of 1 KiB).
/// </summary>
public static class ConfigAccess
{
    public static readonly byte[] AnchorInput = [.. Enumerable.Range(0, 1024).Select(i => (byte)i)];
    public static readonly KeyValuePair<string, string>[] Overrides = [new("scheduler.replicas", "2"), new("scheduler.quorum", "2")];

    /// <summary>A config directory with a file layer and a runtime layer, and a store over it.</summary>
    public static (ConfigStore Store, string Root) Create()
    {
        var root = Path.Combine(Path.GetTempPath(), "duckton-config-bench-" + Guid.NewGuid().ToString("N"));
        var dir = Path.Combine(root, "duckdb-p2p");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.toml"), "[scheduler]\nreplicas = 3\nquorum = 2\n\n[trust]\nmin_trust = 0.7\n\n[budget]\nthreads = 2\n");
        var store = new ConfigStore(dir);
        store.Set("discovery.bootstrap", "127.0.0.1:9494");
        return (store, root);
    }
}

/// <summary>BenchmarkDotNet form of <see cref="ConfigRun"/> (<c>--filter *ConfigAccessBenchmarks*</c>).</summary>
[MemoryDiagnoser]
public class ConfigAccessBenchmarks
{
    private ConfigStore _store = null!;
    private string _root = "";

    [GlobalSetup]
    public void Setup() => (_store, _root) = ConfigAccess.Create();

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark(Baseline = true, Description = "anchor: BLAKE3 of 1 KiB")]
    public byte[] Anchor() => Blake3.Hash(ConfigAccess.AnchorInput);

    [Benchmark(Description = "Effective()")]
    public EffectiveConfig Effective() => _store.Effective();

    [Benchmark(Description = "Effective(overrides)")]
    public EffectiveConfig EffectiveWithOverrides() => _store.Effective(ConfigAccess.Overrides);
}

/// <summary>
/// <c>--config</c>: stopwatch timing of the per-query configuration access, wall and process CPU time per call
/// (best of 5 rounds of ~0.5 s), with the anchor in the same run so runs on a loaded machine compare as ratios.
/// </summary>
public static class ConfigRun
{
    public static int Run()
    {
        var (store, root) = ConfigAccess.Create();
        try
        {
            Measure("anchor: BLAKE3 of 1 KiB", () => Blake3.Hash(ConfigAccess.AnchorInput), out var anchorWall, out var anchorCpu);
            Measure("Effective()", () => store.Effective(), out var wall, out var cpu);
            Console.WriteLine($"  ratio to anchor: {wall / anchorWall:F4} wall, {cpu / anchorCpu:F4} CPU");
            Measure("Effective(overrides)", () => store.Effective(ConfigAccess.Overrides), out wall, out cpu);
            Console.WriteLine($"  ratio to anchor: {wall / anchorWall:F4} wall, {cpu / anchorCpu:F4} CPU");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        return 0;
    }

    private static void Measure(string name, Func<object> action, out double bestWallNs, out double bestCpuNs)
    {
        var process = Process.GetCurrentProcess();
        // Calibrate: enough calls for ~0.5 s, after a warm-up that lets tiered JIT reach optimised code.
        var sw = Stopwatch.StartNew();
        long calls = 0;
        while (sw.ElapsedMilliseconds < 300)
        {
            action();
            calls++;
        }
        var perRound = Math.Max(1, calls * 500 / Math.Max(1, sw.ElapsedMilliseconds));
        bestWallNs = double.MaxValue;
        bestCpuNs = double.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            sw.Restart();
            for (long i = 0; i < perRound; i++)
            {
                action();
            }
            var wall = sw.Elapsed;
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpu0;
            bestWallNs = Math.Min(bestWallNs, wall.TotalNanoseconds / perRound);
            bestCpuNs = Math.Min(bestCpuNs, cpu.TotalNanoseconds / perRound);
        }
        Console.WriteLine($"{name}: {bestWallNs:F0} ns wall, {bestCpuNs:F0} ns CPU per call ({perRound} calls per round, best of 5)");
    }
}
