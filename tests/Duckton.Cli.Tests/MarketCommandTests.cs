namespace Duckton.Cli.Tests;

/// <summary>p2p_pricing, p2p_bidding and the payment / stake parameters of p2p_query through the CLI, as a user types them.</summary>
public sealed class MarketCommandTests : IDisposable
{
    private readonly string _configDir = Directory.CreateTempSubdirectory("duckton-cli-market-").FullName;

    public void Dispose() => Directory.Delete(_configDir, recursive: true);

    private CliRunner.Result Csv(params string[] statements) =>
        CliRunner.Duckton(null, ["sql", "--config-dir", _configDir, "--format", "csv", .. statements.SelectMany(s => new[] { "-c", s })]);

    [Fact]
    public void Pricing_is_shown_set_persisted_and_typed()
    {
        var shown = Csv("SELECT model, unit_price_ton, rate_per_second_nanoton, quote_nanoton, quote, economics_enabled FROM p2p_pricing()");
        Assert.True(shown.ExitCode == 0, shown.Stderr);
        Assert.Equal("model,unit_price_ton,rate_per_second_nanoton,quote_nanoton,quote,economics_enabled\nmetered,0,0,0,free,false\n", shown.Stdout);

        var set = Csv("SELECT model, unit_price_ton, quote_nanoton, quote FROM p2p_pricing(model => 'fixed', unit_price => 3)");
        Assert.True(set.ExitCode == 0, set.Stderr);
        Assert.Equal("model,unit_price_ton,quote_nanoton,quote\nfixed,3,3000000000,3 TON per job\n", set.Stdout);

        // Persisted: a new process sees it, in p2p_config too; the columns are typed (arithmetic works on them).
        var again = Csv("SELECT typeof(unit_price_ton) AS t, unit_price_ton * 2 AS doubled, typeof(quote_nanoton) AS q FROM p2p_pricing()",
            "SELECT value FROM p2p_config() WHERE \"group\" = 'economics' AND key = 'pricing.unit_price'");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal("t,doubled,q\nBIGINT,6,UBIGINT\nvalue\n3\n", again.Stdout);

        var metered = Csv("SELECT quote FROM p2p_pricing(model => 'metered', rate_per_second => 1500000)");
        Assert.Equal("quote\n0.0015 TON per second (metered)\n", metered.Stdout);
    }

    [Fact]
    public void Pricing_errors_name_the_function_and_the_allowed_values()
    {
        var model = Csv("SELECT * FROM p2p_pricing(model => 'auction')");
        Assert.Equal(1, model.ExitCode);
        Assert.Contains("p2p_pricing:", model.Stderr);
        Assert.Contains("metered", model.Stderr);
        Assert.Contains("fixed", model.Stderr);
        var negative = Csv("SELECT * FROM p2p_pricing(unit_price => -1)");
        Assert.Equal(1, negative.ExitCode);
        Assert.Contains("p2p_pricing:", negative.Stderr);
        Assert.Contains("unit_price", negative.Stderr);
        // Nothing was changed by the failed calls.
        Assert.Equal("model,unit_price_ton\nmetered,0\n", Csv("SELECT model, unit_price_ton FROM p2p_pricing()").Stdout);
    }

    [Fact]
    public void Bidding_is_shown_set_and_validated()
    {
        var shown = Csv("SELECT * FROM p2p_bidding()");
        Assert.True(shown.ExitCode == 0, shown.Stderr);
        Assert.Equal("max_bid_ton,max_bid_nanoton,w_quality,w_stake,w_price,stake_reliability_floor,economics_enabled\n0,,0.6,0.3,0.25,0.5,false\n", shown.Stdout);
        var set = Csv("SELECT max_bid_ton, max_bid_nanoton, w_price, stake_reliability_floor FROM p2p_bidding(max_bid => 5, w_price => 0.5, stake_reliability_floor => 0.7)");
        Assert.True(set.ExitCode == 0, set.Stderr);
        Assert.Equal("max_bid_ton,max_bid_nanoton,w_price,stake_reliability_floor\n5,5000000000,0.5,0.7\n", set.Stdout);
        var bad = Csv("SELECT * FROM p2p_bidding(stake_reliability_floor => 1.5)");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("p2p_bidding:", bad.Stderr);
        Assert.Contains("stake_reliability_floor", bad.Stderr);
    }

    [Fact]
    public void Paid_queries_and_stake_requirements_with_economics_off_are_refused_not_ignored()
    {
        var paid = Csv("SELECT * FROM p2p_query('SELECT 42 AS answer', payment => 'paid')");
        Assert.Equal(1, paid.ExitCode);
        Assert.Contains("payment => 'paid' needs paid compute switched on (economics.enabled = true)", paid.Stderr);
        // Free stays free (and runs).
        var free = Csv("SELECT * FROM p2p_query('SELECT 42 AS answer', payment => 'free')");
        Assert.True(free.ExitCode == 0, free.Stderr);
        Assert.Equal("answer\n42\n", free.Stdout);
    }
}
