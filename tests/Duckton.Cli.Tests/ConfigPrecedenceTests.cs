namespace Duckton.Cli.Tests;

/// <summary>Configuration layers end to end through the CLI, across restarts.</summary>
public class ConfigPrecedenceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-cfg-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private CliRunner.Result Sql(Dictionary<string, string> env, params string[] statements)
    {
        var args = new List<string> { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", Path.Combine(_root, "cfg"), "--format", "csv" };
        foreach (var s in statements)
        {
            args.Add("-c");
            args.Add(s);
        }
        return CliRunner.Run("dotnet", args, env: env);
    }

    private const string Replicas = "SELECT value, source FROM p2p_config() WHERE \"group\" = 'scheduler' AND key = 'replicas'";

    [Fact]
    public void File_then_environment_then_runtime_and_reset_returns_to_the_environment()
    {
        var file = Path.Combine(_root, "base.toml");
        File.WriteAllText(file, "[scheduler]\nreplicas = 4\n");
        var fileOnly = new Dictionary<string, string> { ["P2P_CONFIG"] = file };
        Assert.Equal("value,source\n4,file\n", Sql(fileOnly, Replicas).Stdout);

        var withEnv = new Dictionary<string, string> { ["P2P_CONFIG"] = file, ["P2P_REPLICAS"] = "5" };
        Assert.Equal("value,source\n5,env\n", Sql(withEnv, Replicas).Stdout);

        var set = Sql(withEnv, "SELECT value FROM p2p_set('scheduler.replicas', '6')");
        Assert.True(set.ExitCode == 0, set.Stderr);
        Assert.Equal("value\n6\n", set.Stdout);

        // A new process (restart) still sees the runtime layer.
        Assert.Equal("value,source\n6,runtime\n", Sql(withEnv, Replicas).Stdout);
        var runtimeFile = Path.Combine(_root, "cfg", "runtime.toml");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(runtimeFile));

        Assert.Equal(0, Sql(withEnv, "SELECT * FROM p2p_config_reset()").ExitCode);
        Assert.Equal("value,source\n5,env\n", Sql(withEnv, Replicas).Stdout);
    }

    [Fact]
    public void Invalid_settings_fail_with_exit_1_naming_the_keys_and_change_nothing_on_disk()
    {
        var env = new Dictionary<string, string>();
        var r = Sql(env, "SELECT * FROM p2p_set('scheduler.quorum', '99')");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("scheduler.quorum", r.Stderr);
        Assert.Contains("scheduler.replicas", r.Stderr);
        r = Sql(env, "SELECT * FROM p2p_set('no.such.key', '1')");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no.such.key", r.Stderr);
        Assert.False(File.Exists(Path.Combine(_root, "cfg", "runtime.toml")));
    }

    [Fact]
    public void A_bad_environment_value_names_the_variable()
    {
        var r = Sql(new Dictionary<string, string> { ["P2P_REPLICAS"] = "lots" }, "SELECT * FROM p2p_query('SELECT 1')");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("P2P_REPLICAS", r.Stderr);
    }

    [Fact]
    public void A_p2p_set_in_another_process_reaches_a_running_store_within_a_second_without_per_read_resolution()
    {
        var configDir = Path.Combine(_root, "cfg");
        var store = new Duckton.Core.Configuration.ConfigStore(configDir, _ => null);
        Assert.Equal(3, store.Effective().Config.Scheduler.Replicas);
        foreach (var value in new[] { "6", "5" }) // same length twice: only a change signal, not a size check, can tell
        {
            var set = Sql([], $"SELECT value FROM p2p_set('scheduler.replicas', '{value}')");
            Assert.True(set.ExitCode == 0, set.Stderr);
            var exited = System.Diagnostics.Stopwatch.StartNew();
            var resolutions = store.Resolutions;
            var reads = 0;
            while (store.Effective().Config.Scheduler.Replicas != int.Parse(value, System.Globalization.CultureInfo.InvariantCulture))
            {
                Assert.True(exited.Elapsed < TimeSpan.FromSeconds(10), $"p2p_set('{value}') from another process not seen within 10 s");
                reads++;
                Thread.Sleep(5);
            }
            // Typically milliseconds (a file watcher); generous for a loaded machine, yet a store that only
            // re-read on restart fails. Many reads while waiting, few resolutions: none per read.
            Assert.True(exited.Elapsed < TimeSpan.FromSeconds(3), $"took {exited.Elapsed.TotalMilliseconds:F0} ms");
            Assert.InRange(store.Resolutions - resolutions, 1, 10);
            Assert.True(reads < 2 || store.Resolutions - resolutions < reads, $"{store.Resolutions - resolutions} resolutions for {reads} reads");
        }
    }
}
