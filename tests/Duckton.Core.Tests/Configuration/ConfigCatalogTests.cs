using Duckton.Core.Configuration;

namespace Duckton.Core.Tests.Configuration;

public class ConfigCatalogTests
{
    [Fact]
    public void Every_catalogue_key_is_bound_to_the_typed_model_exactly_once()
    {
        var reader = new ConfigReader(ConfigCatalog.Defaults);
        NodeConfig.Bind(reader, "");
        Assert.Equal(ConfigCatalog.Keys.Select(k => k.Key).Order(StringComparer.Ordinal), reader.Used.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Keys_are_unique_dotted_and_lower_case()
    {
        Assert.Equal(ConfigCatalog.Keys.Length, ConfigCatalog.Keys.Select(k => k.Key).Distinct().Count());
        Assert.All(ConfigCatalog.Keys, k =>
        {
            Assert.Contains('.', k.Key);
            Assert.Matches("^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$", k.Key);
            Assert.False(ConfigCatalog.IsSection(k.Key), k.Key + " is both a key and a section");
            Assert.False(string.IsNullOrWhiteSpace(k.Meaning));
        });
    }

    [Fact]
    public void Every_key_has_its_derived_env_var_first_and_no_env_var_is_shared_or_reserved()
    {
        var all = ConfigCatalog.Keys.SelectMany(k => k.EnvVars).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.DoesNotContain(all, ConfigCatalog.ReservedEnvVars.Contains);
        Assert.All(ConfigCatalog.Keys, k => Assert.Equal("P2P_" + k.Key.Replace('.', '_').ToUpperInvariant(), k.EnvVars[0]));
        // Names of the original that users already have in their environments.
        Assert.Contains("P2P_REPLICAS", ConfigCatalog.Get("scheduler.replicas").EnvVars);
        Assert.Contains("P2P_BOOTSTRAP", ConfigCatalog.Get("discovery.bootstrap").EnvVars);
        Assert.Contains("P2P_MIN_TRUST", ConfigCatalog.Get("trust.min_trust").EnvVars);
    }

    [Fact]
    public void Every_default_passes_its_own_checks_and_the_defaults_validate_as_a_whole()
    {
        Assert.All(ConfigCatalog.Keys, k => Assert.True(k.Check(k.Default, out var problem), $"{k.Key}: {problem}"));
        Assert.Equal(3, EffectiveConfig.Defaults.Config.Scheduler.Replicas);
    }

    [Fact]
    public void Every_default_round_trips_through_its_display_text()
    {
        foreach (var key in ConfigCatalog.Keys.Where(k => k.Type != ConfigValueType.StringList))
        {
            Assert.True(key.TryParse(key.Default.ToDisplayString(), out var value, out var problem), $"{key.Key}: {problem}");
            Assert.Equal(key.Default, value);
        }
    }

    [Fact]
    public void The_catalogue_has_every_section_of_the_product()
    {
        string[] groups = ["protocol", "network", "transport", "identity", "security", "membership", "discovery", "scheduler",
            "worker", "liveness", "budget", "trust", "sybil", "storage", "planner", "limits", "sandbox", "economics"];
        Assert.Equal(groups, ConfigCatalog.Keys.Select(k => k.Group).Distinct());
        Assert.Contains("trust.weights", ConfigCatalog.Sections);
        Assert.Equal(217, ConfigCatalog.Keys.Length); // 208 + economics.rpc_timeout_ms, ten economics.local.*, economics.stake.refresh_secs, economics.records.keeper − four inert limits.*/keepalive keys
    }

    [Fact]
    public void Spec_defaults_hold()
    {
        var c = EffectiveConfig.Defaults.Config;
        Assert.Equal((0.7, 0.1, 0.1, 0.1), (c.Trust.Weights.AlphaReputation, c.Trust.Weights.BetaAge, c.Trust.Weights.GammaVoucher, c.Trust.Weights.DeltaStake));
        Assert.Equal(0.1, c.Trust.BootstrapTrust);
        Assert.Equal(TimeSpan.FromDays(7), c.Trust.ReputationHalfLife);
        Assert.Equal((0.6, 0.3, 0.25, 0.15, 0.15, 0.1), (c.Economics.Ranking.WQuality, c.Economics.Ranking.WStake, c.Economics.Ranking.WPrice,
            c.Economics.Ranking.WLatency, c.Economics.Ranking.WThroughput, c.Economics.Ranking.CapabilityWeight));
        Assert.Equal(0.5, c.Economics.Ranking.StakeReliabilityFloor);
        Assert.Equal((0.15, 0.05), (c.Economics.Fees.PlatformFeePct, c.Economics.Fees.ParticipationCommissionFrac));
        Assert.Equal(TimeSpan.FromDays(7), c.Economics.Stake.Unbonding);
        Assert.False(c.Economics.Enabled);
        Assert.Equal([DataClass.Public], c.Budget.DataClasses.ToArray());
    }
}
