namespace Duckton.Library.Tests;

/// <summary>The SQL surface's commands as methods: each runs the p2p_* function itself, so SQL and C# agree.</summary>
public sealed class CommandTests : IDisposable
{
    private readonly TempDirs _dirs = new();

    public void Dispose() => _dirs.Dispose();

    [Fact]
    public async Task Config_set_get_and_reset_go_through_the_runtime_layer()
    {
        await using var node = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New() });
        var before = await node.GetSettingAsync("scheduler.quorum");
        Assert.Equal("default", before!.Source);
        await node.SetConfigAsync("scheduler.quorum", "3");
        var after = await node.GetSettingAsync("scheduler.quorum");
        Assert.Equal(("3", "runtime"), (after!.Value, after.Source));
        Assert.Contains(await node.GetConfigAsync(), s => s.Key == "trust.min_trust");
        Assert.Null(await node.GetSettingAsync("no.such_key"));

        // Persisted in the configuration directory: a second node on it sees it (as a second SQL session would).
        await using (var again = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = node.ConfigDirectory }))
        {
            Assert.Equal("3", (await again.GetSettingAsync("scheduler.quorum"))!.Value);
        }

        var bad = await Assert.ThrowsAsync<DucktonCommandException>(() => node.SetConfigAsync("scheduler.quorum", "many"));
        Assert.Contains("scheduler.quorum", bad.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Binder Error", bad.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DucktonCommandException>(() => node.SetConfigAsync("scheduler.quorumm", "2"));

        await node.ResetConfigAsync();
        Assert.Equal("default", (await node.GetSettingAsync("scheduler.quorum"))!.Source);
    }

    [Fact]
    public async Task Configuration_overrides_apply_to_this_node_only_and_bad_ones_fail_creation()
    {
        var dir = _dirs.New();
        await using (var node = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = dir, Configuration = new Dictionary<string, string> { ["scheduler.replicas"] = "5" } }))
        {
            var s = await node.GetSettingAsync("scheduler.replicas");
            Assert.Equal("5", s!.Value);
            Assert.Equal("env", s.Source);
        }
        await using (var plain = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = dir }))
        {
            Assert.Equal("default", (await plain.GetSettingAsync("scheduler.replicas"))!.Source); // never written to disk
        }
        var unknown = Assert.Throws<DucktonConfigurationException>(() => new DucktonNode(new DucktonNodeOptions { ConfigDirectory = dir, Configuration = new Dictionary<string, string> { ["scheduler.replica"] = "5" } }));
        Assert.Contains("scheduler.replicas", unknown.Message, StringComparison.Ordinal); // the suggestion
        Assert.Throws<DucktonConfigurationException>(() => new DucktonNode(new DucktonNodeOptions { ConfigDirectory = dir, Configuration = new Dictionary<string, string> { ["scheduler.replicas"] = "-1" } }));
    }

    [Fact]
    public async Task Block_and_unblock_a_peer()
    {
        await using var node = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New() });
        var id = "b3:" + new string('a', 64);
        await node.BlockAsync(id, "cheating");
        Assert.True(await node.UnblockAsync(id));
        Assert.False(await node.UnblockAsync(id));
        var bad = await Assert.ThrowsAsync<DucktonCommandException>(() => node.BlockAsync("b3:nothex"));
        Assert.Contains("not a node id", bad.Message, StringComparison.Ordinal);
        Assert.Empty(await node.GetReceiptsAsync());
        Assert.Empty(await node.GetPeersAsync());
        Assert.Matches("^b3:[0-9a-f]{64}$", await node.GetNodeIdAsync());
    }

    [Fact]
    public async Task A_join_with_no_seed_answering_says_so_and_persists_the_seed()
    {
        await using var node = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New() });
        var join = await node.JoinAsync(["127.0.0.1:1"]); // nothing listens on port 1
        Assert.False(join.Joined);
        Assert.Contains("gossip keeps retrying", join.Status, StringComparison.Ordinal);
        Assert.Equal(["127.0.0.1:1"], join.Bootstrap);
        Assert.Contains("127.0.0.1:1", (await node.GetSettingAsync("discovery.bootstrap"))!.Value, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DucktonCommandException>(() => node.JoinAsync([]));
    }
}
