namespace Duckton.Grid.Tests;

/// <summary>
/// Five real host processes with economics on, each pricing its work in its own config.toml: cheap (1 TON per job),
/// mid (3 TON), dear (20 TON), metered (1 TON per second) and a SIMULATED overcharger that quotes 1 TON per job but
/// claims 2 TON in its signed commit. The requester (in-process, real DuckDB) bids at most 5 TON per paid job.
/// Settlement (escrow) is not part of these tests: they check who may run a paid job and at what price.
/// </summary>
public sealed class MarketFixture : IDisposable
{
    public MarketFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-market-tests-").FullName;
        Cheap = Start("cheap", "fixed", 1);
        var seed = new[] { "--seed", Cheap.Address };
        Mid = Start("mid", "fixed", 3, seed);
        Dear = Start("dear", "fixed", 20, seed);
        Metered = Start("metered", "metered", 1, seed);
        Overcharger = Start("overcharger", "fixed", 1, [.. seed, "--simulate", "overcharge"]);
        Requester = new Requester(Root, "requester", ("scheduler.offer_timeout_ms", "10000"), ("economics.enabled", "true"), ("economics.pricing.max_bid", "5"));
        Requester.JoinAndLearn(Cheap.Address, 5);
    }

    private HostProcess Start(string name, string model, long unitPrice, params string[] extra)
    {
        var dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.toml"), $"[economics]\nenabled = true\n[economics.pricing]\nmodel = \"{model}\"\nunit_price = {unitPrice}\n");
        return HostProcess.Start(Root, name, extra);
    }

    public string Root { get; }
    public HostProcess Cheap { get; }
    public HostProcess Mid { get; }
    public HostProcess Dear { get; }
    public HostProcess Metered { get; }
    public HostProcess Overcharger { get; }
    public Requester Requester { get; }

    public void Dispose() => FixtureTeardown.Run(Requester, [Cheap, Mid, Dear, Metered, Overcharger], Root);
}

public sealed class MarketTests(MarketFixture grid) : IClassFixture<MarketFixture>
{
    private static string Nodes(params HostProcess[] hosts) => "nodes => [" + string.Join(", ", hosts.Select(h => $"'{h.NodeId}'")) + "]";

    private Dictionary<string, string?> Ran(string options)
    {
        var meta = grid.Requester.Meta("'SELECT 42 AS answer'", ", prefer => 'remote', " + options);
        Assert.False(meta.ContainsKey("error"), meta.GetValueOrDefault("error"));
        Assert.Equal("false", meta["executed_locally"]);
        return meta;
    }

    private string Fails(string options) =>
        Assert.ThrowsAny<Exception>(() => grid.Requester.Rows("SELECT * FROM p2p_query('SELECT 42 AS answer', prefer => 'remote', " + options + ")")).Message;

    private static string[] CertifiedHosts(Dictionary<string, string?> meta, int quorum)
    {
        var check = Duckton.Core.Protocol.CommitCertificate.Verify(meta["certificate"]!, quorum);
        Assert.True(check.Valid, check.Error);
        return [.. check.Hosts.Distinct().Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void A_paid_query_runs_only_on_hosts_whose_price_fits_the_bid()
    {
        // dear declines (its price is above the bid), metered is refused by the requester (30 TON for the 30 s time bound).
        var meta = Ran($"payment => 'paid', replicas => 4, quorum => 2, {Nodes(grid.Cheap, grid.Mid, grid.Dear, grid.Metered)}");
        Assert.Equal(new[] { grid.Cheap.NodeId, grid.Mid.NodeId }.Order(StringComparer.Ordinal), CertifiedHosts(meta, 2));
        // The same hosts serve a free query whatever their price: price only binds paid jobs.
        var free = Ran($"replicas => 2, quorum => 2, {Nodes(grid.Dear, grid.Metered)}");
        Assert.Equal(new[] { grid.Dear.NodeId, grid.Metered.NodeId }.Order(StringComparer.Ordinal), CertifiedHosts(free, 2));
        // The requester saw every host's quote, and p2p_peers shows it.
        var text = string.Join("\n", grid.Requester.Rows("SELECT node_id, price_model, CAST(price_nanoton AS VARCHAR) FROM p2p_peers() WHERE price_nanoton IS NOT NULL")
            .Select(r => string.Join(" ", r)));
        Assert.Contains(grid.Dear.NodeId, text);
        Assert.Contains("20000000000", text);
        Assert.Contains("metered", text);
    }

    [Fact]
    public void A_bid_below_every_price_fails_with_the_prices_named()
    {
        var error = Fails($"payment => 'paid', replicas => 2, quorum => 2, {Nodes(grid.Dear, grid.Metered)}");
        Assert.Contains("declined: price: this host charges 20 TON per job; the requester offers 5 TON", error);
        Assert.Contains("above the max bid of 5 TON", error);
    }

    [Fact]
    public void A_host_that_quotes_one_price_and_claims_another_is_caught()
    {
        // Its signed claim of 2 TON against its 1 TON quote is rejected and receipted as a malformed answer. A commit that
        // lands after the quorum is cancelled unread (not judged), so the query repeats until the overcharger's was read.
        string verdicts = "";
        for (var i = 0; i < 8 && !verdicts.Contains("Malformed", StringComparison.Ordinal); i++)
        {
            var meta = Ran($"payment => 'paid', replicas => 3, quorum => 2, {Nodes(grid.Cheap, grid.Mid, grid.Overcharger)}");
            Assert.DoesNotContain(grid.Overcharger.NodeId, CertifiedHosts(meta, 2));
            if (meta.TryGetValue("rejected", out var rejected) && rejected?.Contains(grid.Overcharger.NodeId, StringComparison.Ordinal) == true)
            {
                Assert.Contains("price mismatch", rejected);
                Assert.Contains("claims 2 TON", rejected);
            }
            verdicts = string.Join(",", grid.Requester.Rows($"SELECT verdict FROM p2p_receipts(worker => '{grid.Overcharger.NodeId}')").Select(r => r[0]));
        }
        Assert.Contains("Malformed", verdicts);
    }

    [Fact]
    public void Staked_hosts_are_required_for_real_and_unknown_stake_fails_closed()
    {
        // Economics is on but this requester has no chain stake source: every stake is unknown, so nothing qualifies.
        var error = Fails($"require_staked_hosts => true, replicas => 2, quorum => 2, {Nodes(grid.Cheap, grid.Mid)}");
        Assert.Contains("not enough staked hosts", error);
        Assert.Contains("require_staked_hosts", error);
    }
}
