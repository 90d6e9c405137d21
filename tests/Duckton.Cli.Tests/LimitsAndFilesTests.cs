using System.Diagnostics;
using Duckton.Core.Configuration;

namespace Duckton.Cli.Tests;

/// <summary>
/// Bounded inputs and owner-only files: config files, CLI counts and sizes, the trust store's directory and file,
/// stale temp files, shell history; and the local path's memory limit and default timeout.
/// </summary>
public sealed class LimitsAndFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-limits-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private CliRunner.Result Sql(string configDir, IDictionary<string, string>? env, params string[] commands) =>
        CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", configDir, "--format", "csv", .. commands.SelectMany(c => new[] { "-c", c })],
            env: new Dictionary<string, string>(env ?? new Dictionary<string, string>()) { ["P2P_CONFIG_DIR"] = configDir });

    private static string Mode(string path) => "0" + Convert.ToString((int)File.GetUnixFileMode(path) & 0x1FF, 8);

    [Fact]
    public void Trust_store_path_keeps_an_existing_directory_mode_and_the_store_file_is_owner_only()
    {
        var shared = Path.Combine(_root, "shared");
        Directory.CreateDirectory(shared);
        File.SetUnixFileMode(shared, (UnixFileMode)Convert.ToInt32("755", 8));
        var config = Path.Combine(_root, "cfg");
        var r = Sql(config, null, $"SELECT * FROM p2p_set('trust.store_path', '{shared}')", "SELECT count(*) AS n FROM p2p_status()");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("0755", Mode(shared)); // not narrowed: duckton did not create it
        Assert.Equal("0600", Mode(Path.Combine(shared, "trust.duckdb")));

        // The default place is a directory duckton creates: owner-only.
        var fresh = Path.Combine(_root, "cfg2");
        r = Sql(fresh, null, "SELECT count(*) AS n FROM p2p_status()");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("0700", Mode(Path.Combine(fresh, "trust")));
        Assert.Equal("0600", Mode(Path.Combine(fresh, "trust", "trust.duckdb")));
    }

    [Fact]
    public void A_config_file_larger_than_1_MiB_is_refused_at_once_with_the_bound_named()
    {
        var dir = Path.Combine(_root, "big");
        Directory.CreateDirectory(dir);
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<ConfigException>(() => new ConfigStore(dir, n => n == "P2P_CONFIG" ? "/dev/zero" : null).Effective());
        Assert.Contains("larger than the limit of 1 MiB", e.Message, StringComparison.Ordinal);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"refusing /dev/zero took {sw.ElapsedMilliseconds} ms");

        var huge = Path.Combine(dir, "huge.toml");
        File.WriteAllText(huge, "# padding\n" + new string('#', 2 << 20) + "\n");
        e = Assert.Throws<ConfigException>(() => new ConfigStore(dir, n => n == "P2P_CONFIG" ? huge : null).Effective());
        Assert.Contains("larger than the limit of 1 MiB", e.Message, StringComparison.Ordinal);

        // A file just under the bound is read.
        File.WriteAllText(huge, "# padding\n" + new string('#', (1 << 20) - 100) + "\n[budget]\nthreads = 3\n");
        Assert.Equal(3, new ConfigStore(dir, n => n == "P2P_CONFIG" ? huge : null).Effective().Config.Budget.Threads);

        // The same through the CLI.
        var r = CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "host", "--config-dir", dir, "--listen", "127.0.0.1:0"],
            env: new Dictionary<string, string> { ["P2P_CONFIG"] = "/dev/zero" }, timeout: TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("larger than the limit of 1 MiB", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Grid_up_with_too_many_hosts_and_host_with_more_memory_than_the_machine_are_refused()
    {
        var r = CliRunner.Duckton(null, "grid", "up", "--hosts", "100000");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--hosts 100000 is above the limit of 64", r.Stderr, StringComparison.Ordinal);

        r = CliRunner.Duckton(null, "host", "--config-dir", Path.Combine(_root, "h"), "--listen", "127.0.0.1:0", "--memory", "99999TB");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--memory '99999TB' is more than this machine's memory", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stale_runtime_temp_files_of_a_killed_process_are_removed_on_start()
    {
        var dir = Path.Combine(_root, "tmpfiles");
        Directory.CreateDirectory(dir);
        var stale = Path.Combine(dir, ".runtime.toml.0123456789abcdef.tmp");
        var fresh = Path.Combine(dir, ".runtime.toml.fedcba9876543210.tmp");
        File.WriteAllText(stale, "partial");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddMinutes(-5));
        File.WriteAllText(fresh, "being written by a live process");
        var r = Sql(dir, null, "SELECT 1 AS one");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.False(File.Exists(stale), "a stale temp file was left");
        Assert.True(File.Exists(fresh), "a temp file another process may be writing right now was removed");
    }

    [Fact]
    public void Shell_history_never_keeps_secrets_and_is_capped()
    {
        var file = Path.Combine(_root, "hist", "duckton_history");
        var editor = new LineEditor(file);
        editor.Add("SELECT 1;");
        editor.Add("SELECT * FROM p2p_set('payments.wallet_mnemonic', 'abandon abandon ...');");
        editor.Add("SELECT * FROM p2p_set('storage.secret_access_key', 'xyz');");
        editor.Add("SELECT * FROM P2P_WALLET(create => true);");
        editor.Add("SELECT * FROM p2p_set('budget.threads', '2');");
        Assert.Equal(["SELECT 1;", "SELECT * FROM p2p_set('budget.threads', '2');"], File.ReadAllLines(file));
        Assert.Equal("0600", Mode(file));

        for (var i = 0; i < LineEditor.MaxHistory + 50; i++)
        {
            editor.Add($"SELECT {i};");
        }
        var lines = File.ReadAllLines(file);
        Assert.True(lines.Length <= LineEditor.MaxHistory, $"{lines.Length} lines in the history file");
        Assert.Equal($"SELECT {LineEditor.MaxHistory + 49};", lines[^1]);
        Assert.Equal("0600", Mode(file));

        // A file an older version wrote with a secret in it is cleaned when the shell starts.
        File.AppendAllText(file, "SELECT * FROM p2p_set('payments.private_key', 'k');\n");
        _ = new LineEditor(file);
        Assert.DoesNotContain(File.ReadAllLines(file), l => l.Contains("private_key", StringComparison.Ordinal));
    }

    [Fact]
    public void The_local_path_has_the_per_job_memory_limit_and_a_default_timeout()
    {
        var dir = Path.Combine(_root, "local");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.toml"), "[budget]\nper_job_memory_bytes = 268435456\n[worker]\njob_timeout_ms = 1500\n");
        var sw = Stopwatch.StartNew();
        var r = Sql(dir, null,
            "SELECT * FROM p2p_query('SELECT current_setting(''max_memory'') AS m', prefer => 'local')",
            "SELECT * FROM p2p_query('SELECT sum(hash(i)) AS s FROM range(100000000000) t(i)', prefer => 'local')");
        Assert.Contains("256.0 MiB", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("exceeded the default timeout of 1500 ms", r.Stderr, StringComparison.Ordinal);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"took {sw.ElapsedMilliseconds} ms");
    }
}
