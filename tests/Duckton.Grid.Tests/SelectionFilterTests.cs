namespace Duckton.Grid.Tests;

/// <summary>
/// Four real host processes in two regions (eu, us) and two groups (g1, g2); only one also serves the network "blue".
/// Their memberships come from each host's config.toml, exactly as an operator would set them.
/// </summary>
public sealed class SelectionFilterFixture : IDisposable
{
    public SelectionFilterFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-selection-tests-").FullName;
        EuG1 = Start("eu-g1", "eu", "g1", "\"default\", \"blue\"");
        var seed = new[] { "--seed", EuG1.Address };
        EuG2 = Start("eu-g2", "eu", "g2", "\"default\"", seed);
        UsG1 = Start("us-g1", "us", "g1", "\"default\"", seed);
        UsG2 = Start("us-g2", "us", "g2", "\"default\"", seed);
        Requester = new Requester(Root, "requester", ("scheduler.offer_timeout_ms", "10000"));
        Requester.JoinAndLearn(EuG1.Address, 4);
    }

    private HostProcess Start(string name, string region, string group, string networks, params string[] extra)
    {
        var dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.toml"),
            $"[membership]\nregion = \"{region}\"\ngroups = [\"{group}\"]\nnetworks = [{networks}]\n");
        return HostProcess.Start(Root, name, extra);
    }

    public string Root { get; }
    public HostProcess EuG1 { get; }
    public HostProcess EuG2 { get; }
    public HostProcess UsG1 { get; }
    public HostProcess UsG2 { get; }
    public Requester Requester { get; }

    public void Dispose() => FixtureTeardown.Run(Requester, [EuG1, EuG2, UsG1, UsG2], Root);
}

public sealed class SelectionFilterTests(SelectionFilterFixture grid) : IClassFixture<SelectionFilterFixture>
{
    private Dictionary<string, string?> Meta(string options) => Ran(", prefer => 'remote', replicas => 4" + options);

    /// <summary>p2p_query_meta's rows of a query that must have run on the grid (its error row otherwise fails the test).</summary>
    private Dictionary<string, string?> Ran(string options)
    {
        var meta = grid.Requester.Meta("'SELECT 42 AS answer'", options);
        Assert.False(meta.ContainsKey("error"), meta.GetValueOrDefault("error"));
        Assert.Equal("false", meta["executed_locally"]);
        return meta;
    }

    /// <summary>The error p2p_query raises for a query that must fail.</summary>
    private string Fails(string options) =>
        Assert.ThrowsAny<Exception>(() => grid.Requester.Rows("SELECT * FROM p2p_query('SELECT 42 AS answer'" + options + ")")).Message;

    /// <summary>
    /// Runs with four replicas asked for and a quorum of exactly the hosts expected to match: the signed commits in the
    /// certificate must come from those hosts and no other, and the winner must be one of them.
    /// </summary>
    private void Selects(string filter, params HostProcess[] expected)
    {
        var meta = Meta(filter + $", quorum => {expected.Length}");
        var ids = expected.Select(h => h.NodeId).Order(StringComparer.Ordinal).ToArray();
        var check = Duckton.Core.Protocol.CommitCertificate.Verify(meta["certificate"]!, expected.Length);
        Assert.True(check.Valid, check.Error);
        Assert.Equal(ids, check.Hosts.Distinct().Order(StringComparer.Ordinal).ToArray());
        Assert.Contains(meta["winner"], ids);
    }

    [Fact]
    public void Regions_groups_and_network_select_exactly_the_matching_hosts()
    {
        Selects(", regions => ['eu']", grid.EuG1, grid.EuG2);
        Selects(", groups => ['g1']", grid.EuG1, grid.UsG1);
        Selects(", regions => ['us'], groups => ['g2', 'nobody']", grid.UsG2);
        Selects(", network => 'blue'", grid.EuG1);
        // Several regions: any of them matches.
        Selects(", regions => ['us', 'eu']", grid.EuG1, grid.EuG2, grid.UsG1, grid.UsG2);
    }

    [Fact]
    public void A_filter_nobody_matches_says_which_filter_excluded_which_hosts()
    {
        var e = Fails(", prefer => 'remote', regions => ['ap']");
        Assert.Contains("regions => ['ap']", e);
        Assert.Contains("excluded 4 host(s)", e);
        Assert.Contains("region 'eu'", e);
        Assert.DoesNotContain("p2p_join", e);

        var net = Fails(", prefer => 'remote', network => 'red', regions => ['eu']");
        Assert.Contains("network => 'red'", net);
        Assert.Contains("regions => ['eu']", net);
        Assert.DoesNotContain("p2p_join", net);
    }

    [Fact]
    public void The_auto_planner_runs_locally_when_the_grid_cannot_meet_the_policy_and_says_why()
    {
        // One host matches (us, g2): too few for quorum 2, so the default planner answers locally instead of failing.
        var local = grid.Requester.Meta("'SELECT 42 AS answer'", ", regions => ['us'], groups => ['g2']");
        Assert.False(local.ContainsKey("error"), local.GetValueOrDefault("error"));
        Assert.Equal("true", local["executed_locally"]);
        Assert.Equal("local: the grid cannot meet the policy (1 usable host(s) for quorum 2)", local["planner"]);

        // Two match (eu): the grid can meet quorum 2, so the same call goes remote and says so.
        var remote = grid.Requester.Meta("'SELECT 42 AS answer'", ", regions => ['eu']");
        Assert.False(remote.ContainsKey("error"), remote.GetValueOrDefault("error"));
        Assert.Equal("false", remote["executed_locally"]);
        Assert.Equal("remote: 2 usable host(s) for quorum 2", remote["planner"]);

        // prefer => 'remote' keeps failing rather than silently running elsewhere than asked.
        Assert.Contains("quorum", Fails(", prefer => 'remote', regions => ['us'], groups => ['g2']"));
    }

    [Fact]
    public void An_explicit_min_trust_is_a_hard_floor_and_only_the_default_policy_seats_newcomers()
    {
        // Fresh hosts have far less than 0.95 trust: an explicit floor refuses them, naming the best trust available.
        var e = Fails(", prefer => 'remote', min_trust => 0.95");
        Assert.Contains("min_trust 0.95", e);
        Assert.Contains("best available trust is", e);
        Assert.Contains("prefer => 'local'", e);

        // The same floor set in the runtime layer (p2p_trust) is just as hard.
        grid.Requester.Rows("SELECT * FROM p2p_trust(min_trust => 0.95)");
        try
        {
            var runtime = Fails(", prefer => 'remote'");
            Assert.Contains("min_trust 0.95 (runtime)", runtime);
        }
        finally
        {
            grid.Requester.Rows("SELECT * FROM p2p_config_reset()");
            grid.Requester.Host.Config.Set("scheduler.offer_timeout_ms", "10000");
        }

        // The default policy seats canary-vetted newcomers, and p2p_query_meta says it did.
        var ok = Ran(", prefer => 'remote'");
        Assert.Equal("true", ok["verified"]);
        Assert.NotEqual("0", ok["probationary"]);
    }
}

/// <summary>Labels a host declares through <c>p2p_share(...)</c> in SQL route queries just like configured ones.</summary>
public sealed class SharedLabelTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-share-labels-").FullName;

    [Fact]
    public void Labels_declared_with_p2p_share_route_queries_to_that_host()
    {
        using var host = new Requester(_root, "host");
        using var requester = new Requester(_root, "requester");
        var share = host.Rows("SELECT key, value FROM p2p_share(region => 'eu-west', groups => ['analytics'], networks => ['default', 'blue'])").ToDictionary(r => r[0]!, r => r[1]);
        requester.JoinAndLearn(share["listen_addr"]!, 1);
        foreach (var filter in new[] { "regions => ['eu-west']", "groups => ['analytics', 'other']", "network => 'blue'" })
        {
            var meta = requester.Meta("'SELECT 42 AS answer'", $", prefer => 'remote', replicas => 1, quorum => 1, {filter}");
            Assert.False(meta.ContainsKey("error"), $"{filter}: {meta.GetValueOrDefault("error")}");
            Assert.Equal(share["node_id"], meta["winner"]);
        }
        var e = Assert.ThrowsAny<Exception>(() => requester.Rows("SELECT * FROM p2p_query('SELECT 42', prefer => 'remote', quorum => 1, replicas => 1, groups => ['billing'])")).Message;
        Assert.Contains("groups => ['billing'] excluded 1 host(s)", e);
        Assert.Contains("groups ['analytics']", e);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
