using Duckton.Core.Configuration;

namespace Duckton.Core.Tests.Configuration;

public class ConfigStoreTests
{
    [Fact]
    public void The_cached_configuration_follows_every_change_of_files_environment_and_other_writers()
    {
        using var dir = new TempConfigDir();
        var store = dir.Store();
        var other = dir.Store(); // another process writing the same runtime layer
        Assert.Same(store.Effective(), store.Effective()); // nothing changed: resolved once
        for (var i = 0; i < 40; i++)
        {
            // Same-length values back to back, within one file-time tick: content, not mtime, must decide.
            var value = i % 2 == 0 ? "0.55" : "0.65";
            (i % 3 == 0 ? other : store).Set("trust.min_trust", value);
            Assert.Equal(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture), store.Effective().Config.Trust.MinTrust);
        }
        // The environment is read when the store is created, as a process reads it at start.
        dir.Env["P2P_QUORUM"] = "1";
        Assert.Equal(2, store.Effective().Config.Scheduler.Quorum);
        store = dir.Store();
        Assert.Equal(1, store.Effective().Config.Scheduler.Quorum);
        // A file edited by hand is seen through the watcher, moments later.
        dir.WriteConfig("[scheduler]\nreplicas = 7\n");
        Assert.True(Eventually(() => store.Effective().Config.Scheduler.Replicas == 7), "config.toml edit not seen within 10 s");
        var overrides = new Dictionary<string, string> { ["scheduler.replicas"] = "2" };
        // Resolved once while nothing changes. (The edit above may reach the watcher as more than one event, a moment
        // apart: each resolves again, so wait for the last one; a cache that never held would fail here.)
        Assert.True(Eventually(() => ReferenceEquals(store.Effective(overrides), store.Effective(overrides))), "the configuration was resolved again on every call");
        Assert.Equal(2, store.Effective(overrides).Config.Scheduler.Replicas);
        Assert.Equal(4, store.Effective(new Dictionary<string, string> { ["scheduler.replicas"] = "4" }).Config.Scheduler.Replicas);
    }

    [Fact]
    public void Defaults_apply_when_nothing_is_configured()
    {
        using var dir = new TempConfigDir();
        var effective = dir.Store().Effective();
        Assert.Equal(3, effective.Config.Scheduler.Replicas);
        Assert.Equal(2, effective.Config.Scheduler.Quorum);
        Assert.Equal(0.7, effective.Config.Trust.MinTrust);
        Assert.Equal(PlannerPreference.Auto, effective.Config.Planner.Prefer);
        Assert.Equal(4L * 1024 * 1024 * 1024, effective.Config.Budget.MemoryBytes);
        Assert.Equal(TimeSpan.FromSeconds(30), effective.Config.Scheduler.DispatchTimeout);
        Assert.Equal(ConfigSource.Default, effective.SourceOf("scheduler.replicas"));
        Assert.False(Directory.Exists(dir.ConfigDir)); // reading never creates anything
    }

    [Fact]
    public void File_is_overridden_by_env_which_is_overridden_by_runtime_which_is_overridden_by_call()
    {
        using var dir = new TempConfigDir();
        dir.WriteConfig("""
            [scheduler]
            replicas = 5
            quorum = 3
            [trust]
            min_trust = 0.8
            [planner]
            prefer = "local"
            """);
        dir.Env["P2P_QUORUM"] = "4";
        dir.Env["P2P_MIN_TRUST"] = "0.9";
        var store = dir.Store();
        store.Set("trust.min_trust", "0.95");

        var effective = store.Effective();
        Assert.Equal(5, effective.Config.Scheduler.Replicas);
        Assert.Equal(ConfigSource.File, effective.SourceOf("scheduler.replicas"));
        Assert.Equal(4, effective.Config.Scheduler.Quorum);
        Assert.Equal(ConfigSource.Env, effective.SourceOf("scheduler.quorum"));
        Assert.Equal(0.95, effective.Config.Trust.MinTrust);
        Assert.Equal(ConfigSource.Runtime, effective.SourceOf("trust.min_trust"));
        Assert.Equal(PlannerPreference.Local, effective.Config.Planner.Prefer);
        Assert.Equal(ConfigSource.Default, effective.SourceOf("scheduler.verify_mode"));

        var call = store.Effective([new("planner.prefer", "remote"), new("scheduler.quorum", "5")]);
        Assert.Equal(PlannerPreference.Remote, call.Config.Planner.Prefer);
        Assert.Equal(5, call.Config.Scheduler.Quorum);
        Assert.Equal(ConfigSource.Call, call.SourceOf("planner.prefer"));
    }

    [Fact]
    public void P2P_CONFIG_file_is_read_over_the_config_directory_file()
    {
        using var dir = new TempConfigDir();
        dir.WriteConfig("[budget]\nthreads = 4\nmax_jobs = 5\n");
        var named = dir.WriteConfig("[budget]\nthreads = 8\n", Path.Combine(dir.Root, "elsewhere", "grid.toml"));
        dir.Env["P2P_CONFIG"] = named;
        var config = dir.Store().Effective().Config;
        Assert.Equal(8, config.Budget.Threads);
        Assert.Equal(5, config.Budget.MaxJobs);
    }

    [Fact]
    public void A_missing_P2P_CONFIG_file_is_an_error_naming_it()
    {
        using var dir = new TempConfigDir();
        dir.Env["P2P_CONFIG"] = Path.Combine(dir.Root, "nope.toml");
        var error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.Contains("nope.toml", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Runtime_layer_survives_a_restart_and_reset_drops_it()
    {
        using var dir = new TempConfigDir();
        dir.Store().Set("scheduler.replicas", "5");

        var restarted = dir.Store(); // a new instance, as after a process restart
        var effective = restarted.Effective();
        Assert.Equal(5, effective.Config.Scheduler.Replicas);
        Assert.Equal(ConfigSource.Runtime, effective.SourceOf("scheduler.replicas"));
        Assert.True(File.Exists(dir.RuntimeFile));

        var reset = restarted.Reset();
        Assert.Equal(3, reset.Config.Scheduler.Replicas);
        Assert.Equal(ConfigSource.Default, reset.SourceOf("scheduler.replicas"));
        Assert.False(File.Exists(dir.RuntimeFile));
        Assert.Equal(3, dir.Store().Effective().Config.Scheduler.Replicas);
    }

    [Fact]
    public void Quorum_above_replicas_is_rejected_naming_both_keys_and_nothing_changes_on_disk()
    {
        using var dir = new TempConfigDir();
        var store = dir.Store();
        store.Set("planner.prefer", "remote");
        var before = File.ReadAllBytes(dir.RuntimeFile);

        var filesBefore = Directory.GetFiles(dir.ConfigDir, "*", SearchOption.AllDirectories).Order().ToArray();
        var error = Assert.Throws<ConfigException>(() => store.Set("scheduler.quorum", "99"));
        Assert.Equal(filesBefore, Directory.GetFiles(dir.ConfigDir, "*", SearchOption.AllDirectories).Order().ToArray());

        Assert.Equal("scheduler.quorum = 99 is invalid: quorum must be between 1 and scheduler.replicas (3)", error.Message);
        Assert.Equal("scheduler.quorum", error.Key);
        Assert.Equal("99", error.Value);
        Assert.Equal(before, File.ReadAllBytes(dir.RuntimeFile));
        Assert.Equal(2, store.Effective().Config.Scheduler.Quorum);
    }

    [Fact]
    public void Setting_replicas_and_quorum_together_is_atomic()
    {
        using var dir = new TempConfigDir();
        var store = dir.Store();
        // Raising quorum alone to 4 fails (replicas 3); raising both at once works.
        var effective = store.Set([new("scheduler.replicas", "5"), new("scheduler.quorum", "4")]);
        Assert.Equal(5, effective.Config.Scheduler.Replicas);
        Assert.Equal(4, effective.Config.Scheduler.Quorum);
    }

    [Fact]
    public void Unknown_key_is_rejected_naming_it()
    {
        using var dir = new TempConfigDir();
        var error = Assert.Throws<ConfigException>(() => dir.Store().Set("scheduler.replica", "3"));
        Assert.Contains("unknown configuration key 'scheduler.replica'", error.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'scheduler.replicas'", error.Message, StringComparison.Ordinal);
        Assert.Contains("SELECT * FROM p2p_config()", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.ConfigDir)); // nothing was written, not even the directory
    }

    [Fact]
    public void Unknown_key_in_a_file_names_the_file_line_and_key()
    {
        using var dir = new TempConfigDir();
        var path = dir.WriteConfig("[scheduler]\nreplicas = 3\nquroum = 2\n");
        var error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.StartsWith($"{path}:3:1: unknown configuration key 'scheduler.quroum'", error.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'scheduler.quorum'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_type_in_a_file_says_what_is_expected()
    {
        using var dir = new TempConfigDir();
        var path = dir.WriteConfig("[scheduler]\nreplicas = \"three\"\n");
        var error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.Equal($"{path}:2:1: scheduler.replicas = \"three\" is invalid: expected an integer, found a string", error.Message);
    }

    [Fact]
    public void Invalid_TOML_names_the_file_and_position()
    {
        using var dir = new TempConfigDir();
        var path = dir.WriteConfig("[scheduler]\nreplicas = = 3\n");
        var error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.StartsWith($"{path}:2:12: expected a value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_section_written_as_a_value_is_explained()
    {
        using var dir = new TempConfigDir();
        dir.WriteConfig("scheduler = 3\n");
        var error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.Contains("'scheduler' is a section, not a value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_env_value_is_rejected_naming_the_variable_and_key()
    {
        using var dir = new TempConfigDir();
        dir.Env["P2P_REPLICAS"] = "lots";
        var error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.Equal("environment variable P2P_REPLICAS: scheduler.replicas = lots is invalid: expected an integer", error.Message);

        dir.Env.Remove("P2P_REPLICAS");
        dir.Env["P2P_PLANNER_PREFER"] = "nearest";
        error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.Equal("environment variable P2P_PLANNER_PREFER: planner.prefer = nearest is invalid: must be one of local, remote, auto", error.Message);
    }

    [Fact]
    public void Env_names_of_the_original_and_the_derived_names_both_work_but_must_agree()
    {
        using var dir = new TempConfigDir();
        dir.Env["P2P_SCHEDULER_REPLICAS"] = "5";
        Assert.Equal(5, dir.Store().Effective().Config.Scheduler.Replicas);
        dir.Env["P2P_REPLICAS"] = "5";
        Assert.Equal(5, dir.Store().Effective().Config.Scheduler.Replicas);
        dir.Env["P2P_REPLICAS"] = "4";
        var error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.Contains("P2P_SCHEDULER_REPLICAS and P2P_REPLICAS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cross_key_errors_from_env_say_where_the_value_came_from()
    {
        using var dir = new TempConfigDir();
        dir.Env["P2P_QUORUM"] = "4";
        var error = Assert.Throws<ConfigException>(() => dir.Store().Effective());
        Assert.Equal("environment variable P2P_QUORUM: scheduler.quorum = 4 is invalid: quorum must be between 1 and scheduler.replicas (3)", error.Message);
    }

    [Fact]
    public void Secrets_are_redacted_in_entries()
    {
        using var dir = new TempConfigDir();
        using var issuer = Duckton.Core.Crypto.Ed25519Key.Generate();
        var secretToken = Duckton.Core.Protocol.MembershipToken.Issue(issuer, Duckton.Core.Protocol.MembershipKind.Group, "b3:" + new string('a', 64), "g",
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1)).ToText();
        dir.Env["P2P_MEMBERSHIP_GROUP_TOKEN"] = secretToken;
        var store = dir.Store();
        store.Set("economics.testnet.api_key", "toncenter-key-123");

        var entries = store.Entries();
        var token = Assert.Single(entries, e => e.Group == "membership" && e.Key == "group_token");
        Assert.Equal("<redacted>", token.Value);
        Assert.Equal(ConfigSource.Env, token.Source);
        var apiKey = Assert.Single(entries, e => e.Group == "economics" && e.Key == "testnet.api_key");
        Assert.Equal("<redacted>", apiKey.Value);
        Assert.Equal("runtime", apiKey.SourceName);
        Assert.DoesNotContain(entries, e => e.Value.Contains(secretToken[..20], StringComparison.Ordinal) || e.Value.Contains("toncenter-key", StringComparison.Ordinal));
        // Unset secrets show as empty, so "not configured" stays visible.
        Assert.Equal("", Assert.Single(entries, e => e.Key == "region_token").Value);
    }

    [Fact]
    public void Entries_cover_every_key_once_with_group_key_value_and_source()
    {
        using var dir = new TempConfigDir();
        var entries = dir.Store().Entries();
        Assert.Equal(ConfigCatalog.Keys.Length, entries.Count);
        var replicas = Assert.Single(entries, e => e.Group == "scheduler" && e.Key == "replicas");
        Assert.Equal("3", replicas.Value);
        Assert.Equal("default", replicas.SourceName);
        Assert.Equal("default", Assert.Single(entries, e => e.Group == "membership" && e.Key == "networks").Value);
        Assert.Equal("public", Assert.Single(entries, e => e.Key == "data_classes").Value);
        Assert.Single(entries, e => e.Group == "trust" && e.Key == "weights.alpha_reputation");
    }

    [Fact]
    public void Runtime_file_is_owner_only_and_its_directory_too()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempConfigDir();
        dir.Store().Set("budget.memory_bytes", "2GB");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.RuntimeFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.ConfigDir));
        Assert.Empty(Directory.GetFiles(dir.ConfigDir, "*.tmp")); // atomic write left nothing behind
    }

    [Fact]
    public void An_existing_wide_open_config_directory_is_narrowed_when_written()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempConfigDir();
        Directory.CreateDirectory(dir.ConfigDir);
        File.SetUnixFileMode(dir.ConfigDir, (UnixFileMode)0b111_101_101);
        dir.Store().Set("worker.enabled", "false");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.ConfigDir));
    }

    [Fact]
    public void Runtime_file_is_TOML_with_typed_values()
    {
        using var dir = new TempConfigDir();
        var store = dir.Store();
        store.Set([new("budget.memory_bytes", "2GB"), new("discovery.bootstrap", "10.0.0.5:9494, 10.0.0.6:9494"),
            new("scheduler.dispatch_timeout_ms", "45s"), new("trust.min_attestation", "l1"), new("worker.enabled", "off")]);
        var text = File.ReadAllText(dir.RuntimeFile);
        Assert.Contains("[budget]\nmemory_bytes = 2147483648\n", text, StringComparison.Ordinal);
        Assert.Contains("bootstrap = [\"10.0.0.5:9494\", \"10.0.0.6:9494\"]", text, StringComparison.Ordinal);
        Assert.Contains("dispatch_timeout_ms = 45000", text, StringComparison.Ordinal);
        Assert.Contains("min_attestation = \"L1\"", text, StringComparison.Ordinal);
        var config = dir.Store().Effective().Config;
        Assert.Equal(2L << 30, config.Budget.MemoryBytes);
        Assert.Equal(["10.0.0.5:9494", "10.0.0.6:9494"], config.Discovery.Bootstrap.ToArray());
        Assert.Equal(TimeSpan.FromSeconds(45), config.Scheduler.DispatchTimeout);
        Assert.Equal(AttestationLevel.L1, config.Trust.MinAttestation);
        Assert.False(config.Worker.Enabled);
    }

    [Fact]
    public void Unset_removes_one_runtime_key_and_the_file_when_empty()
    {
        using var dir = new TempConfigDir();
        var store = dir.Store();
        store.Set([new("budget.threads", "4"), new("budget.max_jobs", "6")]);
        Assert.Equal(2, store.RuntimeOverrides().Count);
        Assert.Equal(2, store.Unset("budget.threads").Config.Budget.Threads);
        Assert.Equal(6, store.Effective().Config.Budget.MaxJobs);
        store.Unset("budget.max_jobs");
        Assert.False(File.Exists(dir.RuntimeFile));
    }

    [Fact]
    public void Setting_a_value_the_file_layer_makes_invalid_fails_with_both_sources_kept()
    {
        using var dir = new TempConfigDir();
        dir.WriteConfig("[scheduler]\nreplicas = 5\nquorum = 4\n");
        var store = dir.Store();
        var error = Assert.Throws<ConfigException>(() => store.Set("scheduler.replicas", "3"));
        Assert.Contains("scheduler.quorum = 4 is invalid: quorum must be between 1 and scheduler.replicas (3)", error.Message, StringComparison.Ordinal);
        Assert.Contains("config.toml:3:1", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.RuntimeFile));
    }

    [Fact]
    public void Per_call_overrides_are_validated_and_widen_the_candidate_sample()
    {
        var defaults = EffectiveConfig.Defaults;
        var wide = defaults.WithOverrides([new KeyValuePair<string, string>("scheduler.replicas", "20")]);
        Assert.Equal(20, wide.Config.Scheduler.Replicas);
        Assert.Equal(20, wide.Config.Discovery.CandidateSampleSize);
        var error = Assert.Throws<ConfigException>(() => defaults.WithOverrides([new KeyValuePair<string, string>("scheduler.verify_mode", "maybe")]));
        Assert.Equal("per-call override: scheduler.verify_mode = maybe is invalid: must be one of quorum, fast", error.Message);
        Assert.Throws<ConfigException>(() => defaults.WithOverrides([new KeyValuePair<string, ConfigValue>("scheduler.quorum", ConfigValue.Int(0))]));
    }

    [Fact]
    public void Mainnet_needs_an_explicit_confirmation()
    {
        using var dir = new TempConfigDir();
        var store = dir.Store();
        var error = Assert.Throws<ConfigException>(() => store.Set("economics.network", "mainnet"));
        Assert.Contains("economics.mainnet_confirmed = true", error.Message, StringComparison.Ordinal);
        var effective = store.Set([new("economics.network", "mainnet"), new("economics.mainnet_confirmed", "true")]);
        Assert.Equal(TonNetwork.Mainnet, effective.Config.Economics.Network);
    }

    [Fact]
    public void Private_mode_requires_allowlist_pinning()
    {
        using var dir = new TempConfigDir();
        var error = Assert.Throws<ConfigException>(() => dir.Store().Set("security.mode", "private"));
        Assert.Equal("identity.pinning_mode = \"tofu\" is invalid: must be \"allowlist\" when security.mode = \"private\"", error.Message);
    }

    [Fact]
    public void A_corrupt_runtime_file_is_reported_and_reset_recovers()
    {
        using var dir = new TempConfigDir();
        Directory.CreateDirectory(dir.ConfigDir);
        File.WriteAllText(dir.RuntimeFile, "[scheduler\n");
        var store = dir.Store();
        var error = Assert.Throws<ConfigException>(() => store.Effective());
        Assert.Contains("runtime.toml:1:11", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, store.Reset().Config.Scheduler.Replicas);
    }

    [Fact]
    public void The_example_file_parses_and_validates_with_every_key_from_the_file()
    {
        using var dir = new TempConfigDir();
        dir.Env["P2P_CONFIG"] = Path.Combine(RepoPaths.Root, "config", "duckton.example.toml");
        var effective = dir.Store().Effective();
        foreach (var key in ConfigCatalog.Keys)
        {
            Assert.True(effective.SourceOf(key.Key) == ConfigSource.File, key.Key + " is missing from the example file");
            Assert.Equal(key.Default, effective.ValueOf(key.Key));
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or 10 s pass (the machine may be loaded).</summary>
    internal static bool Eventually(Func<bool> condition)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) return false;
            Thread.Sleep(10);
        }
        return true;
    }
}

public class ConfigStoreConcurrencyTests
{
    [Fact]
    public void Concurrent_setters_on_separate_store_instances_lose_no_change()
    {
        using var dir = new TempConfigDir();
        string[] keys = ["budget.threads", "budget.max_jobs", "budget.per_job_threads", "limits.peer_cache_capacity",
            "limits.connection_pool_size", "scheduler.max_inflight_jobs", "discovery.gossip.fanout", "discovery.candidate_sample_size"];
        Parallel.ForEach(keys, key => dir.Store().Set(key, "7"));
        var overrides = dir.Store().RuntimeOverrides();
        Assert.Equal(keys.Order(), overrides.Keys.Order());
        Assert.All(overrides.Values, v => Assert.Equal(7, v.AsInt));
    }

    [Fact]
    public void Setting_a_value_the_runtime_layer_already_holds_takes_no_lock_and_writes_nothing()
    {
        // Every shell on one config directory joining the same seeds sets discovery.bootstrap to what it already is.
        using var dir = new TempConfigDir();
        dir.Store().Set("discovery.bootstrap", "[\"10.0.0.5:9494\"]");
        var written = File.ReadAllText(dir.RuntimeFile);
        var stamp = File.GetLastWriteTimeUtc(dir.RuntimeFile);
        var other = dir.Store();
        // Another process holds the runtime layer's lock (as a writer would, or one starved mid-write).
        var lockPath = Path.Combine(dir.ConfigDir, ".runtime.toml.lock");
        using (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var effective = other.Set("discovery.bootstrap", "[\"10.0.0.5:9494\"]");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"a no-op set waited {sw.Elapsed} for the lock");
            Assert.Equal(["10.0.0.5:9494"], effective.Config.Discovery.Bootstrap.ToArray());
            Assert.Equal(ConfigSource.Runtime, effective.SourceOf("discovery.bootstrap"));
        }
        Assert.Equal(written, File.ReadAllText(dir.RuntimeFile));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(dir.RuntimeFile));
        // A real change is still written (under the lock, which is free again).
        other.Set("discovery.bootstrap", "[\"10.0.0.5:9494\", \"10.0.0.6:9494\"]");
        Assert.Equal(["10.0.0.5:9494", "10.0.0.6:9494"], dir.Store().Effective().Config.Discovery.Bootstrap.ToArray());
    }
}
